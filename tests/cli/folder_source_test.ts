/**
 * `tinybackup --folder DIR --dest D`, end to end: the tar stream extracted
 * with both GNU tar and bsdtar and compared with the folder; excludes,
 * --split, a file that keeps changing, and bad input.
 */
import assert from "node:assert/strict";
import { needs, programs } from "../_requires.ts";
import { readPosition, stopAfterReading } from "../faults/_races.ts";
import { commandLine, IS_ROOT, run, tempDir, tinybackup, visibleFiles } from "./_cli.ts";
import { describeTree, LONG_NAME, makeFixture } from "./_folder_fixture.ts";

const withTars = await needs("cli/folder_source_test.ts", programs("tar", "bsdtar", "gunzip"));
const test = (name: string, fn: () => Promise<void>) => withTars.test(`folder: ${name}`, fn);

test("GNU tar and bsdtar extract the same tree: names, links, empty folders, modes, times after 2038", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/project`;
  await makeFixture(source);
  const expected = await describeTree(source);
  const r = await tinybackup(["--folder", source, "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const path = r.stdout.trimEnd();
  assert.match(path, /\/b\/project\.tar\.\d{8}T\d{6}Z\.gz$/);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o400, "a folder's tar is its owner's only");
  await Deno.writeFile(`${dir.path}/project.tar`, await run("gunzip", ["-c", path]));
  for (const [tool, args] of [["tar", ["-xpf"]], ["bsdtar", ["-xpf"]]] as const) {
    const into = `${dir.path}/${tool}`;
    await Deno.mkdir(into);
    await run(tool, [...args, `${dir.path}/project.tar`, "-C", into]);
    assert.deepEqual(
      await describeTree(`${into}/project`),
      expected,
      `${tool} extracts the folder as it is`,
    );
  }
  const gnuList = new TextDecoder().decode(
    await run("tar", ["-tvf", `${dir.path}/project.tar`, "--full-time"]),
  );
  assert.match(
    gnuList,
    /2041-05-06 07:08:09\.25 +project\/docs\/readme\.txt/,
    "milliseconds and years after 2038 kept",
  );
  const listed = new TextDecoder().decode(await run("bsdtar", ["-tf", `${dir.path}/project.tar`]));
  assert.ok(listed.includes(`project/docs/deep/er/still/${LONG_NAME}`));
  assert.ok(listed.includes("project/empty/"));
});

test("the same tree again is unchanged; a touched file is a new version", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/project`;
  await makeFixture(source);
  const first = await tinybackup(["--folder", source, "--dest", `${dir.path}/b`]);
  const second = await tinybackup(["--folder", source, "--dest", `${dir.path}/b`]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  assert.match(second.stderr, /unchanged since/);
  await Deno.writeTextFile(`${source}/docs/readme.txt`, "read me again\n");
  const third = await tinybackup(["--folder", source, "--dest", `${dir.path}/b`]);
  assert.notEqual(third.stdout, first.stdout);
});

test("--exclude leaves out names at any depth, paths from the top, and folders with all they hold", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/app`;
  await Deno.mkdir(`${source}/cache/sub`, { recursive: true });
  await Deno.mkdir(`${source}/src/logs`, { recursive: true });
  await Deno.writeTextFile(`${source}/cache/sub/x`, "x");
  await Deno.writeTextFile(`${source}/src/main.ts`, "main");
  await Deno.writeTextFile(`${source}/src/debug.log`, "log");
  await Deno.writeTextFile(`${source}/src/logs/keep.txt`, "kept: logs/ is not *.log");
  await Deno.writeTextFile(`${source}/top.log`, "log");
  const r = await tinybackup([
    ...["--folder", source, "--dest", `${dir.path}/b`, "--exclude", "*.log", "--exclude", "cache/"],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const names = new TextDecoder().decode(
    await run("sh", ["-c", 'gunzip -c "$1" | tar -tf -', "sh", r.stdout.trimEnd()]),
  ).trim().split("\n").sort();
  assert.deepEqual(names, [
    "app/",
    "app/src/",
    "app/src/logs/",
    "app/src/logs/keep.txt",
    "app/src/main.ts",
  ]);
});

test("--split makes one series per subfolder and one for the files at the top", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/photos`;
  await Deno.mkdir(`${source}/2024`, { recursive: true });
  await Deno.mkdir(`${source}/2025`);
  await Deno.writeTextFile(`${source}/2024/a.jpg`, "a");
  await Deno.writeTextFile(`${source}/2025/b.jpg`, "b");
  await Deno.writeTextFile(`${source}/index.txt`, "index");
  const r = await tinybackup(["--folder", source, "--split", "--dest", `${dir.path}/b`, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { backups } = JSON.parse(r.stdout);
  assert.deepEqual(backups.map((b: { name: string }) => b.name), [
    "photos.2024.tar",
    "photos.2025.tar",
    "photos.tar",
  ]);
  const into = `${dir.path}/restored`;
  await Deno.mkdir(into);
  for (const b of backups) {
    await run("sh", ["-c", 'gunzip -c "$1" | tar -xf - -C "$2"', "sh", b.path, into]);
  }
  assert.deepEqual(
    await describeTree(`${into}/photos`),
    await describeTree(source),
    "the parts together are the folder",
  );
});

/** Waits until process `pid` has no descriptor open on `path` (or has ended). */
async function closedBy(pid: number, path: string): Promise<void> {
  while (true) {
    let fds: Deno.DirEntry[];
    try {
      fds = [...Deno.readDirSync(`/proc/${pid}/fd`)];
    } catch {
      return; // it ended
    }
    const open = fds.some((fd) => {
      try {
        return Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`) === path;
      } catch {
        return false; // closed meanwhile
      }
    });
    if (!open) return;
    await new Promise((wake) => setTimeout(wake, 5));
  }
}

test("a file that changes during every read fails the run, naming it; --allow-changing keeps it and says which", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/data`;
  await Deno.mkdir(source);
  await Deno.writeTextFile(`${source}/calm.txt`, "calm");
  // Over the size read whole and read again at once: streamed, so a change shows afterwards.
  const churn = `${source}/churn.log`;
  // Random and gzip'd: each read takes long enough (compression holds it back) to be stopped mid-way.
  // 64 MiB: a stop that lands late, while the machine is busy, still lands mid-read.
  const random = new Uint8Array(64 * 1024 * 1024);
  for (let at = 0; at < random.length; at += 65536) {
    crypto.getRandomValues(random.subarray(at, at + 65536));
  }
  await Deno.writeFile(churn, random);
  /** Runs tinybackup, and appends to churn.log in the middle of each of its four reads. */
  const changingEveryRead = async (more: string[]) => {
    const child = new Deno.Command(commandLine([])[0], {
      args: [
        ...commandLine([]).slice(1),
        "--folder",
        source,
        "--dest",
        `${dir.path}/b`,
        ...more,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    for (let read = 0; read < 4; read++) {
      assert.ok(await stopAfterReading(child.pid, churn, 1024 * 1024), `read ${read + 1} stopped`);
      const at = await readPosition(child.pid, churn);
      assert.ok(
        at !== undefined && at < random.length,
        `read ${read + 1} stopped mid-read (at ${at})`,
      );
      await Deno.writeTextFile(churn, `appended during read ${read + 1}\n`, { append: true });
      Deno.kill(child.pid, "SIGCONT");
      await closedBy(child.pid, churn); // this read is over: the next stop is in the next one
    }
    const { code, stdout, stderr } = await child.output();
    return {
      code,
      stdout: new TextDecoder().decode(stdout),
      stderr: new TextDecoder().decode(stderr),
    };
  };
  const failed = await changingEveryRead([]);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(
    failed.stderr,
    /the folder .*\/data kept changing while it was read \(4 tries: churn\.log\); no backup was made/,
  );
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), []);
  const kept = await changingEveryRead(["--allow-changing"]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stderr, /warning: changed while read: churn\.log/);
  // Still a whole archive, however the file moved.
  const listed = new TextDecoder().decode(
    await run("sh", ["-c", 'gunzip -c "$1" | tar -tf -', "sh", kept.stdout.trimEnd()]),
  );
  assert.deepEqual(listed.trim().split("\n"), ["data/", "data/calm.txt", "data/churn.log"]);
});

test("a FIFO and a name that is not UTF-8 are left out and reported, never read", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/data`;
  await Deno.mkdir(source);
  await Deno.writeTextFile(`${source}/ok.txt`, "ok");
  await run("mkfifo", [`${source}/pipe`]);
  await run("sh", ["-c", `printf x > "$1/bad$(printf '\\377')name"`, "sh", source]);
  const r = await tinybackup(["--folder", source, "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: left out of the backup: .*pipe \(not a file, folder or link/);
  assert.match(r.stderr, /name is not valid UTF-8/);
  const names = new TextDecoder().decode(
    await run("sh", ["-c", 'gunzip -c "$1" | tar -tf -', "sh", r.stdout.trimEnd()]),
  ).trim().split("\n");
  assert.deepEqual(names, ["data/", "data/ok.txt"]);
});

test("bad input: a missing folder, a file, an exclude of everything, --split or --exclude without --folder", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a");
  const cases: [string[], RegExp][] = [
    [["--folder", `${dir.path}/missing`], /folder not found/],
    [["--folder", `${dir.path}/data/a.txt`], /not a folder/],
    [
      ["--folder", `${dir.path}/data`, "--exclude", "*.txt"],
      /the --exclude patterns leave nothing/,
    ],
    [["--folder", `${dir.path}/data`, "--exclude", "[a"], /unclosed '\['/],
    [["--file", `${dir.path}/data/a.txt`, "--split"], /--split goes with --folder/],
    [["--file", `${dir.path}/data/a.txt`, "--exclude", "x"], /--exclude goes with --folder/],
  ];
  for (const [args, message] of cases) {
    const r = await tinybackup([...args, "--dest", `${dir.path}/b`]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.equal(await Deno.stat(`${dir.path}/b`).catch(() => undefined), undefined);
  }
});

if (IS_ROOT) {
  test("owners are kept: bsdtar and GNU tar restore them as root", async () => {
    await using dir = await tempDir();
    const source = `${dir.path}/data`;
    await Deno.mkdir(source);
    await Deno.writeTextFile(`${source}/theirs.txt`, "x");
    await Deno.chown(`${source}/theirs.txt`, 3_000_000, 65534);
    const r = await tinybackup(["--folder", source, "--dest", `${dir.path}/b`]);
    assert.equal(r.code, 0, r.stderr);
    await Deno.mkdir(`${dir.path}/out`);
    await run("sh", [
      "-c",
      'gunzip -c "$1" | bsdtar -xpf - -C "$2" --numeric-owner',
      "sh",
      r.stdout.trimEnd(),
      `${dir.path}/out`,
    ]);
    const info = await Deno.stat(`${dir.path}/out/data/theirs.txt`);
    assert.deepEqual([info.uid, info.gid], [3_000_000, 65534]);
  });
}
