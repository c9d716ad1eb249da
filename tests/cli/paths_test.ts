/**
 * Paths as the kernel means them: `..` after a link goes where `cat` and
 * `mkdir` go, names that are not UTF-8 are refused rather than turned into
 * another file's name, and the special folders /dev/shm, /proc and /sys.
 */
import assert from "node:assert/strict";
import {
  commandLine,
  type Run,
  run,
  sameBytes,
  snapshotTree,
  tempDir,
  textBytes,
  tinybackup,
  visibleFiles,
} from "./_cli.ts";

const decoder = new TextDecoder();

/**
 * A folder with `real/sub`,
 * `data`, a link to `real/sub`, and two files named config.yml: the one
 * `data/../config.yml` reaches, `real/config.yml`, and a decoy beside `data`.
 */
async function linkedFolder() {
  const dir = await tempDir();
  const root = dir.path;
  await Deno.mkdir(`${root}/real/sub`, { recursive: true });
  await Deno.symlink(`${root}/real/sub`, `${root}/data`);
  const wanted = textBytes(100, 1);
  await Deno.writeFile(`${root}/real/config.yml`, wanted);
  await Deno.writeFile(`${root}/config.yml`, textBytes(100, 2));
  return { root, wanted, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}

Deno.test("--file and --dest with '..' after a link read and write where the kernel goes", async () => {
  await using t = await linkedFolder();
  const sh = await run("sh", ["-c", 'cd "$1" && cat data/../config.yml', "sh", t.root]);
  assert.ok(sameBytes(sh, t.wanted), "the file cat reads");
  const result = await tinybackup(["--file", "data/../config.yml", "--dest", "data/../bk"], {
    cwd: t.root,
  });
  assert.equal(result.code, 0, result.stderr);
  const path = result.stdout.trim();
  assert.equal(path, `${t.root}/real/bk/${path.split("/").pop()}`);
  assert.ok(sameBytes(await run("gunzip", ["-c", path]), t.wanted));
  assert.deepEqual(await visibleFiles(t.root), ["config.yml", "data", "real"], "no ./bk");
  const list = await tinybackup(["list", "--dest", `${t.root}/real/bk`, "--json"]);
  assert.equal(JSON.parse(list.stdout)[0].source, `${t.root}/real/config.yml`, "recorded resolved");
});

Deno.test("a --file that is a link is recorded by its own name, in a folder resolved as the kernel does", async () => {
  await using t = await linkedFolder();
  await Deno.symlink(`${t.root}/real/config.yml`, `${t.root}/real/sub/link.yml`);
  const result = await tinybackup(["--file", "data/link.yml", "--dest", "bk", "--json"], {
    cwd: t.root,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).source, `${t.root}/real/sub/link.yml`);
});

Deno.test("list, verify and prune --file, and restore BACKUP --to, resolve '..' as the kernel does", async () => {
  await using t = await linkedFolder();
  const made = await tinybackup(["--file", "real/config.yml", "--dest", "real/bk"], {
    cwd: t.root,
  });
  assert.equal(made.code, 0, made.stderr);
  const file = made.stdout.trim().split("/").pop()!;
  const cli = (args: string[]) => tinybackup(args, { cwd: t.root });
  const series = ["--dest", "data/../bk", "--file", "data/../config.yml"];

  const list = await cli(["list", ...series]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`${t.root}/real/bk/${file}\n$`));
  const verify = await cli(["verify", ...series]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.equal(verify.stdout, `ok   ${t.root}/real/bk/${file}\n`);
  const prune = await cli(["prune", ...series, "--keep", "1", "--dry-run"]);
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stderr, /would remove 0 of 1 backup/);

  const restore = await cli(["restore", `data/../bk/${file}`, "--to", "data/../restored.yml"]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal(restore.stdout, `${t.root}/real/restored.yml\n`);
  assert.ok(sameBytes(await Deno.readFile(`${t.root}/real/restored.yml`), t.wanted));
  assert.deepEqual(await visibleFiles(t.root), ["config.yml", "data", "real"]);
});

Deno.test("a --dest with '..' after a folder that does not exist yet is refused, and nothing made", async () => {
  await using t = await linkedFolder();
  const before = await snapshotTree(t.root);
  const result = await tinybackup(["--file", "config.yml", "--dest", "new/../bk"], {
    cwd: t.root,
  });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /error: cannot use new\/\.\.\/bk: '\.\.' follows a folder that/);
  assert.deepEqual(await snapshotTree(t.root), before);
});

/**
 * Runs `script` with sh in `cwd`, where `"$@"` is tinybackup's command line:
 * Deno cannot put bytes that are not UTF-8 in argv, a shell's printf can.
 */
async function inShell(cwd: string, script: string): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: ["-c", `cd "$1" && shift && ${script}`, "sh", cwd, ...commandLine([])],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr), bytes: stdout };
}

/** Exit 2, nothing on stdout, an error saying the name is not UTF-8 and a hint, nothing written. */
async function assertRefusedAsNotUtf8(root: string, script: string): Promise<void> {
  const before = await snapshotTree(root);
  const result = await inShell(root, script);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.match(lines[0], /^tinybackup: error: cannot use .*: the path is not valid UTF-8/);
  assert.match(lines[1], /^tinybackup: hint: rename it/);
  assert.equal(lines.length, 2, result.stderr);
  assert.deepEqual(await snapshotTree(root), before);
}

Deno.test("a name that is not UTF-8 is refused, never taken for the file Deno would make of it", async () => {
  await using dir = await tempDir();
  await run("sh", ["-c", `cd "$1" && printf wanted > "$(printf 'x\\377.db')"`, "sh", dir.path]);
  // What Deno makes of x\xff.db: a real file too, which must not be backed up in its place.
  await Deno.writeFile(`${dir.path}/x\uFFFD.db`, textBytes(10));
  await assertRefusedAsNotUtf8(dir.path, `exec "$@" --file "$(printf 'x\\377.db')" --dest bk`);
});

Deno.test("an existing file whose name is not UTF-8 is refused as such, not reported missing", async () => {
  await using dir = await tempDir();
  await run("sh", ["-c", `cd "$1" && printf data > "$(printf 'caf\\351.db')"`, "sh", dir.path]);
  await assertRefusedAsNotUtf8(dir.path, `exec "$@" --file "$(printf 'caf\\351.db')" --dest bk`);
});

Deno.test("a --dest, a restore --to or a current folder that is not UTF-8 is refused", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(10));
  const made = await tinybackup(["--file", "notes.db", "--dest", "bk"], { cwd: dir.path });
  assert.equal(made.code, 0, made.stderr);
  await assertRefusedAsNotUtf8(dir.path, `exec "$@" --file notes.db --dest "$(printf 'bk\\376')"`);
  await assertRefusedAsNotUtf8(
    dir.path,
    `exec "$@" restore '${made.stdout.trim()}' --to "$(printf 'out\\376')"`,
  );
  await run("sh", ["-c", `cd "$1" && mkdir "$(printf 'd\\376')"`, "sh", dir.path]);
  await assertRefusedAsNotUtf8(
    dir.path,
    `cd "$(printf 'd\\376')" && exec "$@" --file ../notes.db --dest ../bk`,
  );
});

Deno.test("restore --to with a name over 255 bytes exits 2 and restores nothing", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(10));
  const made = await tinybackup(["--file", "notes.db", "--dest", "bk"], { cwd: dir.path });
  const before = await snapshotTree(dir.path);
  const result = await tinybackup(["restore", made.stdout.trim(), "--to", "r".repeat(300)], {
    cwd: dir.path,
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^tinybackup: error: name too long: r+: a name in it is 300 bytes/);
  assert.deepEqual(await snapshotTree(dir.path), before);
});

/** Whether `path` is a folder, asked of test(1): Deno lets only every permission look in /dev and /proc. */
async function isFolder(path: string): Promise<boolean> {
  return (await new Deno.Command("test", { args: ["-d", path] }).output()).code === 0;
}

const SHM = await isFolder("/dev/shm");

Deno.test({
  name: "a file in /dev/shm backs up, and /dev/shm takes backups",
  ignore: !SHM,
  async fn() {
    const shm = decoder.decode(await run("mktemp", ["-d", "/dev/shm/tinybackup-test-XXXXXX"]))
      .trim();
    try {
      const content = textBytes(1000);
      await run("sh", ["-c", 'cat > "$1/notes.db"', "sh", shm], content);
      const result = await tinybackup(["--file", `${shm}/notes.db`, "--dest", `${shm}/bk`]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${shm}/bk/notes\\.db\\.\\d{8}T\\d{6}Z\\.gz\n$`));
      assert.ok(sameBytes(await run("gunzip", ["-c", result.stdout.trim()]), content));
    } finally {
      await run("rm", ["-rf", shm]);
    }
  },
});

const PROC = await isFolder("/proc/self");

Deno.test({
  name: "files in /proc and /sys, or links to them, are refused as --file with a hint to pipe them",
  ignore: !PROC,
  async fn() {
    await using dir = await tempDir();
    await Deno.symlink("/proc/cpuinfo", `${dir.path}/cpu`);
    for (const file of ["/proc/cpuinfo", "/proc/self/status", "/sys/kernel/uevent_seqnum", "cpu"]) {
      const result = await tinybackup(["--file", file, "--dest", "bk"], { cwd: dir.path });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      const [error, hint, ...rest] = result.stderr.trimEnd().split("\n");
      assert.match(
        error,
        /^tinybackup: error: cannot back up .*: files in \/(proc|sys) are made by/,
      );
      assert.equal(
        hint,
        `tinybackup: hint: pipe it in instead: cat ${file} | ` +
          `tinybackup --stdin --name ${file.split("/").pop()} --dest DIR`,
      );
      assert.deepEqual(rest, []);
    }
    assert.deepEqual(await visibleFiles(dir.path), ["cpu"], "no destination made");
  },
});
