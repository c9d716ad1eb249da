/** `tinybackup --file F --dest D` and `--stdin`, end to end, read back with standard tools. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { needs, programs } from "../_requires.ts";
import { BLOCK_SIZE } from "../../lib/backup/compress_block.ts";
import {
  commandLine,
  run,
  sameBytes,
  snapshotTree,
  tempDir,
  textBytes,
  tinybackup,
  visibleFiles,
} from "./_cli.ts";

const BACKUP_NAME = /^notes\.db\.\d{8}T\d{6}Z(_\d+)?\.gz$/;

const GUNZIP = programs("gunzip");
const ZSTD = programs("zstd");
const withGunzip = await needs("cli/backup_test.ts: 6 tests reading with gunzip", GUNZIP);
const withZstd = await needs("cli/backup_test.ts: zstd and none backups", ZSTD);
const withGunzipAndZstd = await needs("cli/backup_test.ts: content of many blocks", GUNZIP, ZSTD);

withGunzip.test("a backup is a gzip file named after the series and the UTC time, and its path is printed", async () => {
  await using dir = await tempDir();
  const content = textBytes(20_000);
  await Deno.writeFile(`${dir.path}/notes.db`, content);
  const result = await tinybackup([
    "--file",
    `${dir.path}/notes.db`,
    "--dest",
    `${dir.path}/backups`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const path = result.stdout.trimEnd();
  assert.equal(result.stdout, path + "\n", "stdout is exactly one line: the path");
  assert.equal(path, `${dir.path}/backups/${path.split("/").pop()}`);
  assert.match(path.split("/").pop()!, BACKUP_NAME);
  assert.ok(sameBytes(await run("gunzip", ["-c", path]), content));
  assert.deepEqual(await visibleFiles(`${dir.path}/backups`), [path.split("/").pop()]);
});

withZstd.test("zstd and none backups are read by zstd -d and by nothing at all", async () => {
  await using dir = await tempDir();
  const content = textBytes(10_000);
  await Deno.writeFile(`${dir.path}/data.txt`, content);
  const zstd = await tinybackup([
    "--file",
    `${dir.path}/data.txt`,
    "--dest",
    dir.path + "/b",
    "--compress",
    "zstd",
  ]);
  assert.equal(zstd.code, 0, zstd.stderr);
  assert.match(zstd.stdout, /\.zst\n$/);
  assert.ok(sameBytes(await run("zstd", ["-d", "-c", zstd.stdout.trim()]), content));
  const none = await tinybackup([
    "--file",
    `${dir.path}/data.txt`,
    "--dest",
    dir.path + "/plain",
    "--compress",
    "none",
  ]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /data\.txt\.\d{8}T\d{6}Z\n$/);
  assert.ok(sameBytes(await Deno.readFile(none.stdout.trim()), content));
});

Deno.test("unchanged content makes no new backup, prints the newest one's path, and --force makes one", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(100));
  const args = ["--file", `${dir.path}/notes.db`, "--dest", `${dir.path}/b`];
  const first = await tinybackup(args);
  const second = await tinybackup(args);
  assert.equal(second.code, 0);
  assert.equal(second.stdout, first.stdout);
  assert.match(second.stderr, /unchanged/);
  assert.equal((await visibleFiles(`${dir.path}/b`)).length, 1);
  // --force makes a fresh copy; the older copy of the same version then goes, as keep counts versions.
  const forced = await tinybackup([...args, "--force", "--json"]);
  assert.equal(forced.code, 0, forced.stderr);
  const made = JSON.parse(forced.stdout);
  assert.notEqual(made.path, first.stdout.trim());
  assert.deepEqual(made.removed, [first.stdout.trim()]);
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), [made.path.split("/").pop()]);
});

Deno.test("runs within the same second never collide", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(100));
  const args = [
    "--file",
    `${dir.path}/notes.db`,
    "--dest",
    `${dir.path}/b`,
    "--force",
    "--keep",
    "0",
  ];
  const runs = await Promise.all([1, 2, 3, 4].map(() => tinybackup(args)));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const paths = new Set(runs.map((r) => r.stdout));
  assert.equal(paths.size, 4, [...paths].join(""));
  assert.equal((await visibleFiles(`${dir.path}/b`)).length, 4);
  for (const name of await visibleFiles(`${dir.path}/b`)) assert.match(name, BACKUP_NAME);
});

withGunzip.test("--keep rotates only after the new backup exists, keeping the newest versions", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  const printed: string[] = [];
  for (let version = 0; version < 4; version++) {
    await Deno.writeFile(file, textBytes(50, version));
    const r = await tinybackup(["--file", file, "--dest", `${dir.path}/b`, "--keep", "2"]);
    assert.equal(r.code, 0, r.stderr);
    printed.push(r.stdout.trim());
  }
  const kept = (await visibleFiles(`${dir.path}/b`)).map((n) => `${dir.path}/b/${n}`);
  assert.deepEqual(kept.sort(), printed.slice(2).sort());
  assert.ok(sameBytes(await run("gunzip", ["-c", printed[3]]), textBytes(50, 3)));
  const metadata = [...Deno.readDirSync(`${dir.path}/b/.tinybackup`)].filter((e) => e.isFile);
  assert.equal(metadata.length, 2, "metadata of removed backups is gone too");
});

Deno.test("rotation never touches another series in the same destination", async () => {
  await using dir = await tempDir();
  for (const name of ["a.txt", "b.txt"]) await Deno.writeFile(`${dir.path}/${name}`, textBytes(10));
  assert.equal(
    (await tinybackup(["--file", `${dir.path}/b.txt`, "--dest", `${dir.path}/d`])).code,
    0,
  );
  for (let version = 0; version < 3; version++) {
    await Deno.writeFile(`${dir.path}/a.txt`, textBytes(10, version + 1));
    const r = await tinybackup([
      "--file",
      `${dir.path}/a.txt`,
      "--dest",
      `${dir.path}/d`,
      "--keep",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const names = await visibleFiles(`${dir.path}/d`);
  assert.equal(names.filter((n) => n.startsWith("a.txt.")).length, 1);
  assert.equal(names.filter((n) => n.startsWith("b.txt.")).length, 1);
});

Deno.test("a series name already used by another file is refused with a hint to pass --name", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/one`);
  await Deno.mkdir(`${dir.path}/two`);
  await Deno.writeFile(`${dir.path}/one/notes.db`, textBytes(10, 1));
  await Deno.writeFile(`${dir.path}/two/notes.db`, textBytes(10, 2));
  assert.equal(
    (await tinybackup(["--file", `${dir.path}/one/notes.db`, "--dest", `${dir.path}/b`])).code,
    0,
  );
  const before = await snapshotTree(`${dir.path}/b`);
  const clash = await tinybackup(["--file", `${dir.path}/two/notes.db`, "--dest", `${dir.path}/b`]);
  assert.equal(clash.code, 2);
  assert.equal(clash.stdout, "");
  assert.match(clash.stderr, /^tinybackup: error: .*another source.*\ntinybackup: hint: .*--name/);
  assert.deepEqual(await snapshotTree(`${dir.path}/b`), before);
  const named = await tinybackup([
    "--file",
    `${dir.path}/two/notes.db`,
    "--dest",
    `${dir.path}/b`,
    "--name",
    "notes-two.db",
  ]);
  assert.equal(named.code, 0, named.stderr);
  assert.match(named.stdout, /notes-two\.db\./);
});

withGunzip.test("--stdin --name backs up a pipe", async () => {
  await using dir = await tempDir();
  const content = textBytes(30_000);
  const r = await tinybackup(["--stdin", "--name", "app.sql", "--dest", dir.path], {
    stdin: content,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\/app\.sql\.\d{8}T\d{6}Z\.gz\n$/);
  assert.ok(sameBytes(await run("gunzip", ["-c", r.stdout.trim()]), content));
  const list = JSON.parse((await tinybackup(["list", "--dest", dir.path, "--json"])).stdout);
  assert.equal(list[0].source, "-");
  assert.equal(list[0].size, content.length);
});

Deno.test("metadata is hidden and private; a created destination is 0700", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(10));
  const r = await tinybackup(["--file", `${dir.path}/notes.db`, "--dest", `${dir.path}/new/deep`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.statSync(`${dir.path}/new/deep`).mode! & 0o777, 0o700);
  assert.equal(Deno.statSync(`${dir.path}/new/deep/.tinybackup`).mode! & 0o777, 0o700);
  for (const entry of Deno.readDirSync(`${dir.path}/new/deep/.tinybackup`)) {
    if (!entry.isFile) continue;
    const info = Deno.statSync(`${dir.path}/new/deep/.tinybackup/${entry.name}`);
    assert.equal(info.mode! & 0o077, 0, `${entry.name} is readable by others`);
    const metadata = JSON.parse(
      Deno.readTextFileSync(`${dir.path}/new/deep/.tinybackup/${entry.name}`),
    );
    assert.equal(metadata.source.path, `${dir.path}/notes.db`);
    assert.match(metadata.sha256, /^[0-9a-f]{64}$/);
    assert.equal(metadata.compression, "gzip");
    assert.match(metadata.tool, /^tinybackup \d/);
  }
});

Deno.test("a backup is never more readable than its source, and never executable", async () => {
  await using dir = await tempDir();
  // Read-only too: nobody, not even a group that may read the source, can change a backup.
  for (const [mode, expected] of [[0o640, 0o440], [0o755, 0o444], [0o600, 0o400], [0o604, 0o404]]) {
    const file = `${dir.path}/f${mode.toString(8)}`;
    await Deno.writeFile(file, textBytes(5));
    await Deno.chmod(file, mode);
    const r = await tinybackup(["--file", file, "--dest", `${dir.path}/b`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.statSync(r.stdout.trim()).mode! & 0o777, expected, mode.toString(8));
  }
});

Deno.test("the source is not disturbed: content, mode and times stay as they were", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  await Deno.writeFile(file, textBytes(50_000));
  await Deno.chmod(file, 0o640);
  const old = new Date("2020-01-02T03:04:05.678Z");
  await Deno.utime(file, old, old);
  const before = await Deno.stat(file);
  const r = await tinybackup(["--file", file, "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  const after = await Deno.stat(file);
  assert.equal(after.mtime?.getTime(), old.getTime());
  assert.equal(after.ctime?.getTime(), before.ctime?.getTime());
  assert.equal(after.mode, before.mode);
  assert.ok(sameBytes(await Deno.readFile(file), textBytes(50_000)));
});

Deno.test("a file that keeps changing while read fails, or is kept and marked with --allow-changing", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/busy.log`;
  await Deno.writeFile(file, textBytes(200_000));
  const writer = new Deno.Command("sh", {
    args: ["-c", 'while :; do echo scribble >> "$1"; done', "sh", file],
  }).spawn();
  try {
    const failed = await tinybackup(["--file", file, "--dest", `${dir.path}/b`]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(failed.stdout, "");
    assert.match(failed.stderr, /tinybackup: error: .*kept changing while it was read/);
    assert.match(failed.stderr, /hint: .*--allow-changing/);
    assert.deepEqual(await visibleFiles(`${dir.path}/b`), []);
    const kept = await tinybackup([
      "--file",
      file,
      "--dest",
      `${dir.path}/b`,
      "--allow-changing",
      "--json",
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stderr, /warning: .*changing/);
    assert.equal(JSON.parse(kept.stdout).changedWhileRead, true);
    const list = await tinybackup(["list", "--dest", `${dir.path}/b`]);
    assert.match(list.stdout, /changed while read/);
  } finally {
    writer.kill();
    await writer.status;
  }
});

Deno.test("--json prints one object describing the backup", async () => {
  await using dir = await tempDir();
  const content = textBytes(1000);
  await Deno.writeFile(`${dir.path}/notes.db`, content);
  const r = await tinybackup([
    "--file",
    `${dir.path}/notes.db`,
    "--dest",
    dir.path + "/b",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.name, "notes.db");
  assert.equal(result.size, content.length);
  assert.equal(result.storedSize, Deno.statSync(result.path).size);
  assert.equal(result.compression, "gzip");
  assert.equal(result.unchanged, false);
  assert.deepEqual(result.removed, []);
  assert.match(result.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(result.sha256, createHash("sha256").update(content).digest("hex"));
});

Deno.test("--dry-run says what would happen and writes and deletes nothing", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  await Deno.writeFile(file, textBytes(10));
  const fresh = await tinybackup(["--file", file, "--dest", `${dir.path}/new`, "--dry-run"]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stdout, /\/new\/notes\.db\.\d{8}T\d{6}Z\.gz\n$/);
  assert.deepEqual(await snapshotTree(`${dir.path}/new`), ["(missing)"]);
  for (let v = 0; v < 2; v++) {
    await Deno.writeFile(file, textBytes(10, v + 1));
    await tinybackup(["--file", file, "--dest", `${dir.path}/b`]);
  }
  const before = await snapshotTree(`${dir.path}/b`);
  await Deno.writeFile(file, textBytes(10, 9));
  const dry = await tinybackup([
    "--file",
    file,
    "--dest",
    `${dir.path}/b`,
    "--keep",
    "1",
    "--dry-run",
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal((dry.stderr.match(/would remove/g) ?? []).length, 2);
  assert.deepEqual(await snapshotTree(`${dir.path}/b`), before);
});

withGunzip.test("names with spaces, quotes, $(...), backticks, unicode and a leading dash are just names", async () => {
  await using dir = await tempDir();
  const name = `-it's "odd" $(touch pwned) \`touch pwned2\` ünï 📦.db`;
  const content = textBytes(100);
  await Deno.writeFile(`${dir.path}/${name}`, content);
  const dest = `${dir.path}/-dest $(x) 'q'`;
  const r = await tinybackup([`--file=${dir.path}/${name}`, `--dest=${dest}`], { cwd: dir.path });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${dest}/${name}.`), r.stdout);
  assert.ok(sameBytes(await run("gunzip", ["-c", r.stdout.trim()]), content));
  await Deno.writeFile(`${dir.path}/${name}`, textBytes(101));
  const relative = await tinybackup(["--file", `./${name}`, "--dest", dest], { cwd: dir.path });
  assert.equal(relative.code, 0, relative.stderr);
  const listed = JSON.parse((await tinybackup(["list", "--dest", dest, "--json"])).stdout);
  assert.equal(listed.length, 2);
  assert.ok(listed.every((b: { name: string }) => b.name === name));
  for (const planted of ["pwned", "pwned2"]) {
    assert.ok(
      !(await Deno.stat(`${dir.path}/${planted}`).catch(() => false)),
      "nothing was executed",
    );
  }
});

Deno.test("--quiet silences notes and --verbose adds detail", async () => {
  await using dir = await tempDir();
  const args = ["--file", `${dir.path}/n`, "--dest", `${dir.path}/b`];
  await Deno.writeFile(`${dir.path}/n`, textBytes(10));
  const verbose = await tinybackup([...args, "--verbose"]);
  assert.match(verbose.stderr, /backed up .* in /);
  const quiet = await tinybackup([...args, "--quiet"]);
  assert.equal(quiet.stderr, "");
  const normal = await tinybackup(args);
  assert.match(normal.stderr, /unchanged/);
});

Deno.test("--help and --version print to stdout and exit 0", async () => {
  const help = await tinybackup(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--file PATH --dest DIR/);
  for (const command of ["list", "restore", "verify", "prune"]) {
    const r = await tinybackup([command, "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`tinybackup ${command}`));
  }
  const version = await tinybackup(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^tinybackup \d+\.\d+\.\d+\n$/);
});

Deno.test("many runs at once into one destination all succeed, and every printed backup is intact", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(1000));
  const args = [
    "--file",
    `${dir.path}/notes.db`,
    "--dest",
    `${dir.path}/b`,
    "--force",
    "--keep",
    "0",
  ];
  const runs = [];
  for (let wave = 0; wave < 3; wave++) {
    runs.push(...await Promise.all(Array.from({ length: 8 }, () => tinybackup(args))));
  }
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  for (const r of runs) assert.ok(Deno.statSync(r.stdout.trim()).isFile, `${r.stdout} is gone`);
  const verify = await tinybackup(["verify", "--dest", `${dir.path}/b`]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(verify.stdout.trim().split("\n").length, 24);
});

withGunzip.test("a run that overlaps a slow run of its series waits for it, then rotates as the later run", async () => {
  await using dir = await tempDir();
  const dest = `${dir.path}/b`;
  await tinybackup(["--stdin", "--name", "x", "--dest", dest], { stdin: "first\n" });
  const slow = new Deno.Command("sh", {
    args: [
      "-c",
      '(printf "slow\\n"; sleep 2; printf "more\\n") | "$@"',
      "sh",
      ...commandLine(["--stdin", "--name", "x", "--dest", dest, "--keep", "1"]),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await new Promise((wake) => setTimeout(wake, 500));
  const started = performance.now();
  const fast = await tinybackup(
    ["--stdin", "--name", "x", "--dest", dest, "--keep", "1", "--json"],
    {
      stdin: "fast\n",
    },
  );
  assert.equal(fast.code, 0, fast.stderr);
  const slowResult = await slow;
  const slowPath = new TextDecoder().decode(slowResult.stdout).trim();
  assert.equal(slowResult.code, 0, new TextDecoder().decode(slowResult.stderr));
  // The fast run waited for the slow one's lock, so its backup is the newer one.
  assert.ok(performance.now() - started > 1000, "the second run waited");
  const made = JSON.parse(fast.stdout);
  assert.deepEqual(made.removed, [slowPath]);
  assert.deepEqual(await visibleFiles(dest), [made.path.split("/").pop()]);
  assert.ok(sameBytes(await run("gunzip", ["-c", made.path]), new TextEncoder().encode("fast\n")));
});

withGunzip.test("empty input on --stdin is refused, since it usually means the command before it failed", async () => {
  await using dir = await tempDir();
  await tinybackup(["--stdin", "--name", "app.sql", "--dest", dir.path], { stdin: "good dump\n" });
  const empty = await tinybackup([
    "--stdin",
    "--name",
    "app.sql",
    "--dest",
    dir.path,
    "--keep",
    "1",
  ], {
    stdin: "",
  });
  assert.equal(empty.code, 1);
  assert.equal(empty.stdout, "");
  assert.match(empty.stderr, /nothing came in on stdin.*\n.*hint: .*--allow-empty/);
  const list = JSON.parse((await tinybackup(["list", "--dest", dir.path, "--json"])).stdout);
  assert.equal(list.length, 1, "the good backup is still there");
  const allowed = await tinybackup(
    ["--stdin", "--name", "app.sql", "--dest", dir.path, "--allow-empty"],
    { stdin: "" },
  );
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal((await run("gunzip", ["-c", allowed.stdout.trim()])).length, 0);
});

Deno.test("a dotfile is backed up as a visible series without its leading dot", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/.bashrc`, textBytes(10));
  const r = await tinybackup(["--file", `${dir.path}/.bashrc`, "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\/b\/bashrc\.\d{8}T\d{6}Z\.gz\n$/);
});

withGunzipAndZstd.test("content of many blocks, compressed on every core, is one file gunzip and zstd -d read", async () => {
  await using dir = await tempDir();
  // Over 4 blocks, and not a whole number of them.
  const content = textBytes(450_000);
  assert.ok(content.length > 4 * BLOCK_SIZE && content.length % BLOCK_SIZE !== 0);
  await Deno.writeFile(`${dir.path}/big.log`, content);
  const gzip = await tinybackup(["--file", `${dir.path}/big.log`, "--dest", `${dir.path}/b`]);
  assert.equal(gzip.code, 0, gzip.stderr);
  assert.ok(sameBytes(await run("gunzip", ["-c", gzip.stdout.trim()]), content));
  const zstd = await tinybackup([
    "--file",
    `${dir.path}/big.log`,
    "--dest",
    `${dir.path}/z`,
    "--compress",
    "zstd",
  ]);
  assert.equal(zstd.code, 0, zstd.stderr);
  assert.ok(sameBytes(await run("zstd", ["-d", "-c", zstd.stdout.trim()]), content));
  const restored = await tinybackup(["restore", zstd.stdout.trim(), "--to", "-"]);
  assert.ok(sameBytes(restored.bytes, content));
  assert.equal((await tinybackup(["verify", "--dest", `${dir.path}/b`])).code, 0);
});
