/**
 * What a series holds after an unlucky history: its newest backup damaged on
 * disk, a clock that was a year ahead for one run, versions that come back.
 * The newest backup must always be the one made last, "unchanged" must only
 * point to a backup that holds, and --keep N keeps N distinct versions.
 * Backups are read back with gunzip; the clock is moved with faketime.
 */
import assert from "node:assert/strict";
import { needs, programs } from "../_requires.ts";
import { commandLine, type Run, run, tempDir, tinybackup, visibleFiles } from "../cli/_cli.ts";

const withGunzip = await needs("faults/series_history_test.ts", programs("gunzip"));
const withFaketime = await needs(
  "faults/series_history_test.ts: the clock a year ahead",
  programs("gunzip", "faketime"),
);

/** Runs tinybackup with the clock moved by `offset` (faketime's -f syntax, e.g. "+365d"). */
async function tinybackupAt(offset: string, args: string[]): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command("faketime", {
    args: ["-f", offset, ...commandLine(args)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr), bytes: stdout };
}

/** The content of a .gz backup, as text. */
async function contentOf(path: string): Promise<string> {
  return new TextDecoder().decode(await run("gunzip", ["-c", path]));
}

/** The contents of every backup in `dest`, newest name last. */
async function contentsIn(dest: string): Promise<string[]> {
  const contents = [];
  for (const name of await visibleFiles(dest)) contents.push(await contentOf(`${dest}/${name}`));
  return contents;
}

withGunzip.test("faults/history: a truncated newest backup is not taken for 'unchanged': a new one is made", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  const dest = `${dir.path}/b`;
  await Deno.writeTextFile(file, "version 1\n".repeat(10_000));
  const first = await tinybackup(["--file", file, "--dest", dest]);
  assert.equal(first.code, 0, first.stderr);
  const damaged = first.stdout.trim();
  const bytes = await Deno.readFile(damaged);
  await Deno.writeFile(damaged, bytes.subarray(0, bytes.length >> 1));

  const second = await tinybackup(["--file", file, "--dest", dest]);
  assert.equal(second.code, 0, second.stderr);
  assert.notEqual(second.stdout.trim(), damaged, "a new backup, not the damaged one");
  assert.match(second.stderr, /warning: the newest backup .* is damaged .*; made a new one/);
  assert.equal(await contentOf(second.stdout.trim()), "version 1\n".repeat(10_000));
  // The damaged copy was an older copy of the same version, so rotation took it.
  const verify = await tinybackup(["verify", "--dest", dest]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(verify.stdout, `ok   ${second.stdout.trim()}\n`);
});

withGunzip.test("faults/history: a newest backup with one byte flipped (same size) is not taken for 'unchanged'", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  const dest = `${dir.path}/b`;
  await Deno.writeTextFile(file, "the same content\n");
  const first = await tinybackup(["--file", file, "--dest", dest, "--compress", "none"]);
  assert.equal(first.code, 0, first.stderr);
  const damaged = first.stdout.trim();
  const bytes = await Deno.readFile(damaged);
  bytes[4] ^= 0x20;
  await Deno.writeFile(damaged, bytes);

  const second = await tinybackup(["--file", file, "--dest", dest, "--compress", "none"]);
  assert.equal(second.code, 0, second.stderr);
  assert.notEqual(second.stdout.trim(), damaged);
  assert.match(second.stderr, /is damaged \(the file's bytes do not match their sha256\)/);
  assert.equal(await Deno.readTextFile(second.stdout.trim()), "the same content\n");
  // A third run finds the new backup whole: unchanged, no warning.
  const third = await tinybackup(["--file", file, "--dest", dest, "--compress", "none"]);
  assert.equal(third.stdout, second.stdout);
  assert.match(third.stderr, /unchanged/);
  assert.doesNotMatch(third.stderr, /warning/);
});

Deno.test({
  name:
    "faults/history: a backup made while the clock was a year ahead never pushes out the backups made after it",
  ignore: withFaketime.ignore,
  async fn() {
    await using dir = await tempDir();
    const file = `${dir.path}/notes.db`;
    const dest = `${dir.path}/b`;
    const backup = async (content: string, args: string[] = [], offset = "+0") => {
      await Deno.writeTextFile(file, content);
      const r = await tinybackupAt(offset, ["--file", file, "--dest", dest, ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    await backup("one\n");
    const ahead = await backup("two, clock a year ahead\n", [], "+365d");
    assert.match(ahead, new RegExp(`\\.${new Date().getUTCFullYear() + 1}\\d{4}T`));

    // The clock is right again: the backup made now is the newest, whatever the names say.
    const now = await backup("three\n", ["--keep", "1", "--json"]);
    const made = JSON.parse(now);
    assert.equal(made.unchanged, false);
    assert.equal(made.removed.length, 2, "both older backups rotated, the future-dated one too");
    assert.deepEqual(await contentsIn(dest), ["three\n"]);

    // "Unchanged" compares with the backup made last, not with the future-dated one.
    await backup("four\n", ["--keep", "0"]);
    await backup("five, clock a year ahead\n", ["--keep", "0"], "+365d");
    const back = await backup("six\n", ["--keep", "0"]);
    const again = await tinybackupAt("+0", ["--file", file, "--dest", dest, "--keep", "0"]);
    assert.equal(again.stdout.trim(), back);
    assert.match(again.stderr, /unchanged/);

    // prune keeps the backup made last, too.
    const prune = await tinybackup(["prune", "--dest", dest, "--file", file, "--keep", "1"]);
    assert.equal(prune.code, 0, prune.stderr);
    assert.deepEqual(await contentsIn(dest), ["six\n"]);
    assert.deepEqual(await visibleFiles(dest), [back.split("/").pop()]);
  },
});

withGunzip.test("faults/history: --keep 3 keeps 3 distinct versions: after C, A, B, A the last A, B and C", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  const dest = `${dir.path}/b`;
  let newest = "";
  for (const version of ["C", "A", "B", "A"]) {
    await Deno.writeTextFile(file, `version ${version}\n`);
    const r = await tinybackup(["--file", file, "--dest", dest, "--keep", "3"]);
    assert.equal(r.code, 0, r.stderr);
    newest = r.stdout.trim();
  }
  assert.deepEqual(
    (await contentsIn(dest)).sort(),
    ["version A\n", "version B\n", "version C\n"],
  );
  // The newest backup is the version the file holds now.
  assert.equal(await contentOf(newest), "version A\n");
  const listed = JSON.parse((await tinybackup(["list", "--dest", dest, "--json"])).stdout);
  assert.equal(listed[0].path, newest);
  // prune counts versions the same way.
  const prune = await tinybackup(["prune", "--dest", dest, "--file", file, "--keep", "2"]);
  assert.equal(prune.code, 0, prune.stderr);
  assert.deepEqual((await contentsIn(dest)).sort(), ["version A\n", "version B\n"]);
});

withGunzip.test("faults/history: a spare copy is kept when the newer copy of its version is damaged", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  const dest = `${dir.path}/b`;
  const made: string[] = [];
  for (const version of ["A", "B", "A"]) {
    await Deno.writeTextFile(file, `version ${version}\n`);
    const r = await tinybackup(["--file", file, "--dest", dest, "--keep", "0", "--force"]);
    assert.equal(r.code, 0, r.stderr);
    made.push(r.stdout.trim());
  }
  // The newest copy of A goes bad on disk; the first A is now A's only good copy.
  await Deno.writeTextFile(made[2], "garbage");
  const prune = await tinybackup(["prune", "--dest", dest, "--file", file, "--keep", "5"]);
  assert.equal(prune.code, 0, prune.stderr);
  assert.equal(prune.stdout, "", "nothing removed");
  assert.equal(await contentOf(made[0]), "version A\n");
  // Once the damaged copy is gone (removed by hand, say), the spare is the copy kept.
  await Deno.remove(made[2]);
  await Deno.remove(`${dest}/.tinybackup/${made[2].slice(dest.length + 1)}.json`);
  const again = await tinybackup(["prune", "--dest", dest, "--file", file, "--keep", "5"]);
  assert.equal(again.stdout, "");
  assert.deepEqual((await contentsIn(dest)).sort(), ["version A\n", "version B\n"]);
});
