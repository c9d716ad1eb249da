/**
 * Disk full (issue 5, item 2). The destination is a small tmpfs: a backup
 * that does not fit, whether its data or only its metadata does not fit,
 * exits 1 saying the disk is full, prints nothing on stdout, leaves no
 * partial file and no orphan metadata, removes no older backup (even one
 * its rotation would remove), and a later run that fits succeeds.
 *
 * Mounting needs root; where it is not permitted the tests are skipped with
 * the reason, except in CI, where they must run.
 */
import assert from "node:assert/strict";
import { needs, programs } from "../_requires.ts";
import { SMALL_DISK, smallDisk } from "../_small_disk.ts";
import { run, tempDir, textBytes, tinybackup, visibleFiles } from "../cli/_cli.ts";
import {
  assertNoLeftovers,
  assertOnlyBackupsVisible,
  assertReadableByStandardTools,
  assertVerifies,
  fileNames,
  listBackups,
} from "./_aftermath.ts";

const MiB = 1024 * 1024;
const PAGE = 4096;
const TMPFS_SIZE = 8 * MiB;

const withSmallDisk = await needs("faults/disk_full_test.ts", ...SMALL_DISK, programs("gunzip"));
const withSmallDiskAndZstd = await needs(
  "faults/disk_full_test.ts: the zstd case",
  ...SMALL_DISK,
  programs("zstd"),
);

/** Bytes free on the file system that holds `path`. */
async function freeBytes(path: string): Promise<number> {
  const out = new TextDecoder().decode(await run("stat", ["-f", "-c", "%a %S", path]));
  const [blocks, blockSize] = out.trim().split(" ").map(Number);
  return blocks * blockSize;
}

/** `bytes` that no compressor can shrink. */
function randomBytes(bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  return data;
}

/** Every file under `dir` with its content: a backup left untouched keeps both. */
async function contents(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const decoder = new TextDecoder("latin1");
  for (const name of await visibleFiles(dir)) {
    found.set(name, decoder.decode(await Deno.readFile(`${dir}/${name}`)));
    const metadata = `.tinybackup/${name}.json`;
    found.set(metadata, await Deno.readTextFile(`${dir}/${metadata}`));
  }
  return found;
}

/** The run failed for want of space, and said so in the usual two lines, on stderr only. */
function assertDiskFull(result: { code: number; stdout: string; stderr: string }): void {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, "", "a failed run printed a result");
  assert.match(result.stderr, /^tinybackup: error: the disk is full\b[^\n]*\n/);
  assert.match(result.stderr, /\ntinybackup: hint: free some space[^\n]*\n$/);
  assert.equal(result.stderr.split("\n").length, 3, result.stderr);
}

for (const compression of ["gzip", "zstd", "none"] as const) {
  Deno.test({
    name: `a ${compression} backup that does not fit fails cleanly; one that fits then succeeds`,
    ignore: (compression === "zstd" ? withSmallDiskAndZstd : withSmallDisk).ignore,
    async fn() {
      await using disk = await smallDisk(TMPFS_SIZE);
      await using dir = await tempDir();
      const source = `${dir.path}/data.bin`;
      const dest = `${disk.path}/backups`;
      const backup = (...more: string[]) =>
        tinybackup(["--file", source, "--dest", dest, "--compress", compression, ...more]);

      // Two good versions of the series, small enough to leave most of the disk free.
      for (const seed of [1, 2]) {
        await Deno.writeFile(source, textBytes(2000, seed));
        const made = await backup();
        assert.equal(made.code, 0, made.stderr);
      }
      const before = await listBackups(dest);
      assert.equal(before.length, 2);
      const untouched = await contents(dest);

      // Random bytes do not compress: 12 MiB cannot fit in 8. With --keep 1, a run
      // that got as far as rotation would remove the older backup.
      await Deno.writeFile(source, randomBytes(12 * MiB));
      assertDiskFull(await backup("--keep", "1"));
      assert.deepEqual(await contents(dest), untouched, "an older backup changed or is gone");
      await assertNoLeftovers(dest);
      await assertOnlyBackupsVisible(dest, before);
      assert.deepEqual(fileNames(await listBackups(dest)), fileNames(before));
      await assertVerifies(dest, 2);

      // A source that fits: the run succeeds, and only now rotation removes the older backup.
      await Deno.writeFile(source, randomBytes(2 * MiB));
      const fits = await backup("--keep", "1");
      assert.equal(fits.code, 0, fits.stderr);
      const after = await listBackups(dest);
      assert.deepEqual(after.map((b) => b.path), [fits.stdout.trim()]);
      await assertReadableByStandardTools(after[0]);
      await assertVerifies(dest, 1);
      await assertNoLeftovers(dest);
      console.log(
        `faults/disk_full: ${compression}: 12 MiB into an 8 MiB disk failed cleanly, 2 MiB then fit`,
      );
    },
  });
}

Deno.test({
  name: "a disk that fills up just before the metadata is written fails cleanly too",
  ignore: withSmallDisk.ignore,
  async fn() {
    await using disk = await smallDisk(TMPFS_SIZE);
    await using dir = await tempDir();
    const source = `${dir.path}/data.bin`;
    const dest = `${disk.path}/backups`;
    const backup = () => tinybackup(["--file", source, "--dest", dest, "--compress", "none"]);
    await Deno.writeFile(source, textBytes(2000));
    assert.equal((await backup()).code, 0);
    const untouched = await contents(dest);

    // A tmpfs counts whole pages: leave room for exactly the backup's data, so that
    // the only thing that cannot be written is its metadata, the page after.
    const size = 1_000_000;
    const dataPages = Math.ceil(size / PAGE);
    await Deno.writeFile(source, randomBytes(size));
    const filler = `${disk.path}/filler`;
    await Deno.writeFile(filler, new Uint8Array((await freeBytes(disk.path)) - dataPages * PAGE));
    assert.equal(await freeBytes(disk.path), dataPages * PAGE);

    assertDiskFull(await backup());
    assert.deepEqual(await contents(dest), untouched, "an older backup changed or is gone");
    await assertNoLeftovers(dest);
    await assertVerifies(dest, 1);
    assert.equal(await freeBytes(disk.path), dataPages * PAGE, "the failed run left bytes behind");

    // One page more, for the metadata, and the same run succeeds, filling the disk exactly.
    await Deno.truncate(filler, (await Deno.stat(filler)).size - PAGE);
    const fits = await backup();
    assert.equal(fits.code, 0, fits.stderr);
    assert.equal(await freeBytes(disk.path), 0);
    const after = await listBackups(dest);
    assert.equal(after.length, 2);
    assert.equal(after[0].path, fits.stdout.trim());
    await assertVerifies(dest, 2);
    await assertNoLeftovers(dest);
    console.log("faults/disk_full: no room for metadata failed cleanly, one page more fit");
  },
});

withSmallDisk.test("faults: a full disk ends a command's and a SQLite database's run: the command is stopped, the snapshot removed", async () => {
  for (const compression of ["none", "gzip"]) {
    await using disk = await smallDisk(2 * MiB);
    await using dir = await tempDir();
    // A sleep no other process has, to look for afterwards.
    const marker = `sleep 297.${compression === "none" ? 1 : 2}`;
    const r = await tinybackup([
      ...["--command", `head -c 40000000 /dev/urandom; ${marker}`, "--name", "dump"],
      ...["--dest", `${disk.path}/b`, "--compress", compression],
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /full/);
    const survivors = [];
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
      if (cmdline.replaceAll("\0", " ").includes(marker) && !cmdline.includes("head -c")) {
        survivors.push(entry.name);
      }
    }
    assert.deepEqual(survivors, [], `${compression}: the command was stopped with the run`);
    await assertNoLeftovers(`${disk.path}/b`);

    const db = `${dir.path}/app.db`;
    await run("python3", [
      "-c",
      "import sqlite3,sys,os; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(b)');" +
      " c.executemany('insert into t values (?)', [(os.urandom(1000),) for _ in range(3000)]); c.commit()",
      db,
    ]);
    const s = await tinybackup([
      "--sqlite",
      db,
      "--dest",
      `${disk.path}/b`,
      "--compress",
      compression,
    ]);
    assert.equal(s.code, 1, s.stderr);
    assert.deepEqual(
      [...Deno.readDirSync(`${disk.path}/b/.tinybackup/tmp`)],
      [],
      `${compression}: no snapshot left`,
    );
  }
});
