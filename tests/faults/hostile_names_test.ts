/**
 * Hostile input (issue 5, item 6): file and destination names built to break
 * quoting, option parsing, globbing, Unicode handling and name-length limits
 * go through every command that handles them (backup, scheduling, the at job
 * run as atd runs it, jobs, log, list, verify, restore, unschedule); nothing
 * in them is ever executed. Then symbolic links planted where tinybackup will
 * write are shown not to be followed.
 *
 * Canaries: every `$(...)`, backtick, `;`, `|`, `&&` and `>` in the names
 * would create a file with an exact name `PWNED_<n>`. After all the runs, no
 * such file exists in `/` (where jobs run), the test's and the job's working
 * folders, $HOME, /tmp, or anywhere under the test's folder.
 *
 * at jobs go to queue "h" only, which is emptied before and after.
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { backupFileName } from "../../lib/backup/naming.ts";
import { emptyQueue, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import { run, sameBytes, tempDir, tinybackup } from "../cli/_cli.ts";

const QUEUE = "h";
const GUNZIP = programs("gunzip");
const withAtAndGunzip = await needs(
  "faults/hostile_names_test.ts: the scheduling lifecycle",
  programs("at", "atq", "atrm"),
  GUNZIP,
);
const withGunzip = await needs(
  "faults/hostile_names_test.ts: 3 tests reading with gunzip",
  GUNZIP,
);

/** Every canary a hostile name or destination could create if something ran it. */
const CANARIES = Array.from({ length: 20 }, (_, i) => `PWNED_${i}`);

const e = "\u0301"; // combining acute accent
/**
 * File names (no `/`, no NUL: the only bytes a name cannot hold). Each is one
 * attack on quoting, option parsing, globbing, Unicode or length.
 */
const NAMES: string[] = [
  "my notes.db",
  "it's.db",
  'say "hi".db',
  "$(touch PWNED_0).db",
  "`touch PWNED_1`.db",
  "'$(touch PWNED_2)'.db",
  '"$(touch PWNED_3)".db',
  "a;touch PWNED_4;b.db",
  "x|touch PWNED_5",
  "y && touch PWNED_6",
  "z > PWNED_7",
  "\\$(touch PWNED_8)\\",
  "back\\slash\\'.db",
  "line\nbreak.db",
  "ends in newline\n",
  "\nstarts with newline",
  "tab\there\rcr.db",
  "-rf",
  "--help",
  "-",
  "--file=x.db",
  "..$(touch PWNED_9) dotted",
  "*",
  "?.db",
  "[a-z]*.db",
  "{a,b}.db",
  "~root",
  "${HOME}$IFS%s%n.db",
  `cafe${e}.db`, // decomposed (NFD) ...
  "caf\u00e9.db", // ... and composed (NFC): two different names that look the same
  "\u202Egpj.exe", // right-to-left override: shows as "exe.jpg"
  "שלום עולם.db",
  "📦👩‍👩‍👧.db",
  "zero\u200Bwidth\uFEFF.db",
  "\u001b[31mred\u001b[0m.db",
  "x".repeat(252) + ".db", // 255 bytes
  "é".repeat(126) + "abc", // 255 bytes, 2-byte characters
  "📦".repeat(63) + "abc", // 255 bytes, 4-byte characters
  `e${e}`.repeat(85), // 255 bytes, 1 + 2 bytes per letter
];

/** The series name tinybackup gives a file by default: its base name without leading dots. */
const seriesOf = (name: string) => name.replace(/^\.+/, "");

/** Distinct content per name and version, of a few sizes. */
function contentFor(index: number, version: number): Uint8Array {
  const text = `${index}/${version} ${NAMES[index]}\n`.repeat(1 + index * 37);
  return new TextEncoder().encode(text);
}

/** Takes job `n` off the queue (`at -c`, `atrm`) and runs its script with sh in `cwd`, as atd would. */
async function runAsAtd(n: number, cwd: string): Promise<{ code: number; stderr: string }> {
  const { code, stdout, stderr } = await runScript(await takeJob(n), cwd);
  return { code, stderr: stdout + stderr };
}

/** Every canary found: in the folders named, and anywhere below `root`. */
async function canariesIn(root: string, folders: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const folder of folders) {
    for (const canary of CANARIES) {
      const path = join(folder, canary);
      if (await Deno.lstat(path).then(() => true, () => false)) found.push(path);
    }
  }
  async function walk(dir: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (CANARIES.includes(entry.name)) found.push(path);
      if (entry.isDirectory) await walk(path);
    }
  }
  await walk(root);
  return found;
}

/** The output of a command that prints one path: stdout without its final newline (names may end in one). */
const onePath = (stdout: string) => stdout.slice(0, -1);

/** The file names in a folder (hidden ones too), sorted. */
async function namesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** Everything about the files below `root` that a write through a link would change. */
async function fingerprint(root: string): Promise<string[]> {
  const lines: string[] = [];
  async function walk(dir: string, prefix: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      const info = await Deno.lstat(path);
      const content = info.isFile ? new TextDecoder().decode(await Deno.readFile(path)) : "";
      lines.push(
        `${prefix}${entry.name} ${info.size} ${info.mode! & 0o7777} ${info.mtime?.getTime()} ${
          JSON.stringify(content)
        }`,
      );
      if (info.isDirectory) await walk(path, `${prefix}${entry.name}/`);
    }
  }
  await walk(root, "");
  return lines.sort();
}

Deno.test({
  name: "faults/hostile names: backup, schedule, job run, list, verify, restore, unschedule",
  ignore: withAtAndGunzip.ignore,
  async fn() {
    await emptyQueue(QUEUE);
    await using dir = await tempDir();
    const root = dir.path;
    const src = `${root}/src`;
    const jobCwd = `${root}/job cwd`;
    const state = `${root}/state $(touch PWNED_10) 'sq' \`touch PWNED_11\``;
    const dests = [
      `${root}/dest $(touch PWNED_12) 'sq' "dq" \`touch PWNED_13\` ;&|<>*?[a]{b,c}~\\ é 📦`,
      `${root}/-dash\nnew line\ttab \u202Ertl ${e}`,
      `${root}/${"d".repeat(255)}`,
    ];
    for (const folder of [src, jobCwd, `${root}/restored`]) await Deno.mkdir(folder);
    const env = { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: state };
    const cli = (args: string[], cwd = root) => tinybackup(args, { env, cwd });

    /** One name's whole life: backup and schedule, job run, list, restore, unschedule. */
    async function lifecycle(i: number): Promise<void> {
      const name = NAMES[i];
      const what = JSON.stringify(name);
      const file = `${src}/${name}`;
      const dest = dests[i % dests.length];
      // A name starting with '-' is given relative, as `--file=-name`.
      const fileArg = name.startsWith("-") ? `--file=${name}` : `--file=${file}`;

      // Back up now and schedule every hour.
      await Deno.writeFile(file, contentFor(i, 1));
      const r = await cli([fileArg, `--dest=${dest}`, "--every", "1h", "--json"], src);
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      const made = JSON.parse(r.stdout);
      assert.equal(made.name, seriesOf(name));
      assert.equal(made.source, file);
      assert.ok(made.path.startsWith(`${dest}/`), made.path);
      const backupName = made.path.slice(dest.length + 1);
      // Long names: the backup's name is shortened so that its metadata's name fits too.
      assert.ok(new TextEncoder().encode(`${backupName}.json`).length <= 255, backupName);
      assert.ok(sameBytes(await run("gunzip", ["-c", made.path]), contentFor(i, 1)), what);

      // jobs describes the job with its exact paths.
      const jobs = JSON.parse((await cli(["jobs", "--json"])).stdout);
      const job = jobs.find((j: { id: string }) => j.id === made.job.id);
      assert.ok(job, `job of ${what}`);
      assert.equal(job.file, file);
      assert.equal(job.dest, resolve(dest));
      assert.equal(job.name, seriesOf(name));
      assert.deepEqual(job.problems, []);

      // New content; the job runs as atd runs it and queues its successor.
      await Deno.writeFile(file, contentFor(i, 2));
      const ran = await runAsAtd(made.job.atJob, jobCwd);
      assert.equal(ran.code, 0, `${what}: ${ran.stderr}`);
      assert.equal(ran.stderr, "", "a good run prints nothing");

      // list --name and --file find this series only, newest first.
      const byName = await cli(["list", `--dest=${dest}`, `--name=${seriesOf(name)}`, "--json"]);
      assert.equal(byName.code, 0, byName.stderr);
      const series = JSON.parse(byName.stdout);
      assert.equal(series.length, 2, `list --name ${what} finds its series only`);
      assert.ok(series.every((b: { name: string }) => b.name === seriesOf(name)));
      assert.equal(series[1].path, made.path, "newest first");
      const byFile = await cli(["list", `--dest=${dest}`, `--file=${file}`, "--json"]);
      assert.deepEqual(JSON.parse(byFile.stdout), series);

      // Restore both versions: into a folder (named after the series) and to stdout.
      const into = `${root}/restored/${i}`;
      await Deno.mkdir(into);
      const restored = await cli(["restore", series[0].path, "--to", into]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(onePath(restored.stdout), `${into}/${seriesOf(name)}`);
      assert.ok(sameBytes(await Deno.readFile(onePath(restored.stdout)), contentFor(i, 2)));
      const old = await cli(["restore", made.path, "--to", "-"]);
      assert.equal(old.code, 0, old.stderr);
      assert.ok(sameBytes(old.bytes, contentFor(i, 1)), `${what} to stdout`);

      // Unschedule by id, or by --file and --dest.
      const un = i % 2 === 0
        ? await cli(["unschedule", made.job.id])
        : await cli(["unschedule", fileArg, `--dest=${dest}`], src);
      assert.equal(un.code, 0, `${what}: ${un.stderr}`);
      assert.equal(un.stdout, `${made.job.id}\n`);
    }

    try {
      // A few names at once: each CLI run is mostly start-up time.
      let next = 0;
      const worker = async () => {
        while (next < NAMES.length) await lifecycle(next++);
      };
      await Promise.all([worker(), worker(), worker()]);
      assert.deepEqual(await queued(QUEUE), [], "every job is gone from the queue");

      const log = JSON.parse((await cli(["log", "--json"])).stdout);
      assert.equal(log.length, NAMES.length);
      assert.ok(log.every((r: { result: string }) => r.result === "ok"), JSON.stringify(log));
      for (const dest of dests) {
        const here = NAMES.filter((_, i) => dests[i % dests.length] === dest).length;
        const list = JSON.parse((await cli(["list", `--dest=${dest}`, "--json"])).stdout);
        assert.equal(list.length, 2 * here);
        const verify = await cli(["verify", `--dest=${dest}`, "--json"]);
        assert.equal(verify.code, 0, verify.stderr);
        const verdicts = JSON.parse(verify.stdout);
        assert.equal(verdicts.length, 2 * here);
        assert.ok(verdicts.every((v: { ok: boolean }) => v.ok));
      }

      // 7. Nothing was executed, anywhere.
      const folders = ["/", Deno.cwd(), root, src, jobCwd, "/tmp", Deno.env.get("HOME") ?? "/root"];
      assert.deepEqual(await canariesIn(root, folders), []);
      console.log(
        `faults/hostile_names: ${NAMES.length} hostile file names x ${dests.length} hostile destinations: ` +
          `backup, schedule, job run, jobs, log, list, verify, restore, unschedule all passed; ` +
          `0 of ${CANARIES.length} canaries created`,
      );
    } finally {
      await emptyQueue(QUEUE);
    }
  },
});

withGunzip.test("faults/hostile names: a relative destination starting with '-' and a 256-byte name", async () => {
  await using dir = await tempDir();
  const content = contentFor(0, 3);
  await Deno.writeFile(`${dir.path}/notes.db`, content);
  const r = await tinybackup(["--file", "notes.db", "--dest=-backups"], { cwd: dir.path });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${dir.path}/-backups/notes.db.`), r.stdout);
  assert.ok(sameBytes(await run("gunzip", ["-c", r.stdout.trim()]), content));

  // No file system holds a 256-byte name, but --name could ask for one: a clear refusal.
  const long = await tinybackup([
    "--file",
    "notes.db",
    "--dest",
    "b",
    "--name",
    "n".repeat(256),
  ], { cwd: dir.path });
  assert.equal(long.code, 2);
  assert.equal(long.stdout, "");
  assert.match(long.stderr, /^tinybackup: error: .*longer than 255 bytes/);
  assert.equal(await Deno.lstat(`${dir.path}/b`).catch(() => undefined), undefined);
});

withGunzip.test("faults/hostile names: symlinks planted at the next backups' names are not followed", async () => {
  await using dir = await tempDir();
  const dest = `${dir.path}/dest`;
  const outside = `${dir.path}/outside`;
  await Deno.mkdir(outside);
  await Deno.writeTextFile(`${outside}/precious.txt`, "precious\n");
  const file = `${dir.path}/notes.db`;
  await Deno.writeFile(file, contentFor(1, 1));
  const first = await tinybackup(["--file", file, "--dest", dest]);
  assert.equal(first.code, 0, first.stderr);
  const before = await fingerprint(outside);

  // Each second from now on: sequence 1's backup name links to a file outside,
  // sequence 2's metadata name and sequence 3's backup name to nothing yet.
  const planted: string[] = [];
  const start = Date.now();
  for (let s = -1; s <= 20; s++) {
    const time = new Date(start + s * 1000);
    const [one, two, three] = [1, 2, 3].map((n) => backupFileName("notes.db", time, n, "gzip"));
    const links: [string, string][] = [
      [`${outside}/precious.txt`, `${dest}/${one}`],
      [`${outside}/precious.txt`, `${dest}/.tinybackup/${one}.json`],
      [`${outside}/made-by-metadata-${s}`, `${dest}/.tinybackup/${two}.json`],
      [`${outside}/made-by-backup-${s}`, `${dest}/${three}`],
    ];
    for (const [target, path] of links) {
      // The first run's own names are taken already.
      if (await Deno.lstat(path).then(() => true, () => false)) continue;
      await Deno.symlink(target, path);
      planted.push(path);
    }
  }
  await Deno.writeFile(file, contentFor(1, 2));
  const r = await tinybackup(["--file", file, "--dest", dest]);
  assert.equal(r.code, 0, r.stderr);
  const path = r.stdout.trim();
  assert.match(path, /\/notes\.db\.\d{8}T\d{6}Z_4\.gz$/, "the first name no link holds");
  assert.ok((await Deno.lstat(path)).isFile);
  assert.ok(sameBytes(await run("gunzip", ["-c", path]), contentFor(1, 2)));
  assert.deepEqual(await fingerprint(outside), before, "nothing outside was written or made");
  for (const link of planted) assert.ok((await Deno.lstat(link)).isSymlink, link);

  const list = JSON.parse((await tinybackup(["list", "--dest", dest, "--json"])).stdout);
  assert.deepEqual(list.map((b: { path: string }) => b.path), [path, first.stdout.trim()]);
  const verify = await tinybackup(["verify", "--dest", dest]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  console.log(
    `faults/hostile_names: ${planted.length} symlinks planted at predictable backup and metadata names: none followed`,
  );
});

/** A folder outside the destination, full of things a run must not touch. */
async function plantOutside(outside: string): Promise<void> {
  await Deno.mkdir(`${outside}/tmp`, { recursive: true });
  await Deno.writeTextFile(`${outside}/precious.txt`, "precious\n");
  await Deno.writeTextFile(`${outside}/notes.db.20200101T000000Z.gz.json`, "{}\n");
  await Deno.writeTextFile(`${outside}/abandoned.partial`, "not tinybackup's\n");
  await Deno.writeTextFile(`${outside}/tmp/also precious`, "precious\n");
}

for (
  const [where, link] of [
    ["the staging folder .tinybackup/tmp", ".tinybackup/tmp"],
    ["the metadata folder .tinybackup", ".tinybackup"],
  ]
) {
  Deno.test(`faults/hostile names: a symlink in place of ${where} is not followed`, async () => {
    await using dir = await tempDir();
    const dest = `${dir.path}/dest`;
    const outside = `${dir.path}/outside`;
    await plantOutside(outside);
    const file = `${dir.path}/notes.db`;
    await Deno.writeFile(file, contentFor(2, 1));
    await Deno.mkdir(`${dest}/.tinybackup`, { recursive: true });
    if (link === ".tinybackup") await Deno.remove(`${dest}/.tinybackup`);
    await Deno.symlink(outside, `${dest}/${link}`);
    const before = await fingerprint(outside);
    const destBefore = await namesIn(dest);

    const outcomes = new Set<string>();
    for (const compression of ["gzip", "none"]) {
      const r = await tinybackup(["--file", file, "--dest", dest, "--compress", compression]);
      outcomes.add(r.code === 0 ? "backed up without following it" : `refused (exit ${r.code})`);
      assert.deepEqual(
        await fingerprint(outside),
        before,
        "nothing outside was written or removed",
      );
      if (r.code === 0) {
        // Allowed only without following the link: the backup is complete and nothing went outside.
        const path = r.stdout.trim();
        assert.ok((await Deno.lstat(path)).isFile);
        assert.ok((await Deno.lstat(`${dest}/${link}`)).isSymlink);
      } else {
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /^tinybackup: error: .*symbolic link/);
        assert.deepEqual(await namesIn(dest), destBefore, "nothing written in the destination");
      }
    }
    console.log(
      `faults/hostile_names: a symlink in place of ${link}: ${[...outcomes].join(", ")}; ` +
        `the folder it points to untouched`,
    );
  });
}

withGunzip.test("faults/hostile names: a destination reached through a symlink still works", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/real`);
  await Deno.symlink(`${dir.path}/real`, `${dir.path}/link`);
  const file = `${dir.path}/notes.db`;
  await Deno.writeFile(file, contentFor(3, 1));
  const r = await tinybackup(["--file", file, "--dest", `${dir.path}/link`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(sameBytes(await run("gunzip", ["-c", r.stdout.trim()]), contentFor(3, 1)));
  assert.equal((await namesIn(`${dir.path}/real`)).length, 2, "the backup and .tinybackup");
});

Deno.test("faults/hostile names: restore does not write through a symlink at its target", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  await Deno.writeFile(file, contentFor(4, 1));
  const backup = (await tinybackup(["--file", file, "--dest", `${dir.path}/b`])).stdout.trim();
  const outside = `${dir.path}/outside`;
  await Deno.mkdir(outside);
  await Deno.writeTextFile(`${outside}/precious.txt`, "precious\n");
  const before = await fingerprint(outside);
  await Deno.symlink(`${outside}/precious.txt`, `${dir.path}/to-existing`);
  await Deno.symlink(`${outside}/new-file`, `${dir.path}/to-nothing`);

  for (const target of ["to-existing", "to-nothing"]) {
    const refused = await tinybackup(["restore", backup, "--to", `${dir.path}/${target}`]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stdout, "");
    assert.match(refused.stderr, /^tinybackup: error: .* exists\n/);
    assert.deepEqual(await fingerprint(outside), before);
    // --force replaces the link itself, never what it points to.
    const forced = await tinybackup([
      "restore",
      backup,
      "--to",
      `${dir.path}/${target}`,
      "--force",
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    const info = await Deno.lstat(`${dir.path}/${target}`);
    assert.ok(info.isFile && !info.isSymlink);
    assert.ok(sameBytes(await Deno.readFile(`${dir.path}/${target}`), contentFor(4, 1)));
    assert.deepEqual(await fingerprint(outside), before);
  }
});
