/**
 * What a run that failed or was killed must leave in a destination, read back
 * the way a user would: `tinybackup list --json`, `tinybackup verify`, the
 * standard decompressors and a plain look at the folder. Shared by
 * crash_test.ts and disk_full_test.ts.
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { run, tinybackup, visibleFiles } from "../cli/_cli.ts";

/** One entry of `tinybackup list --json`. */
export interface Listed {
  path: string;
  name: string;
  generation: number;
  time: string;
  size: number;
  storedSize: number;
  sha256: string;
  compression: "gzip" | "zstd" | "none";
  source: string;
  changedWhileRead: boolean;
}

/** `tinybackup list --dest DEST --json`, newest first; fails the test if the command fails. */
export async function listBackups(dest: string): Promise<Listed[]> {
  const listed = await tinybackup(["list", "--dest", dest, "--json"]);
  assert.equal(listed.code, 0, `list failed: ${listed.stderr}`);
  return JSON.parse(listed.stdout);
}

/** The file names (in the destination) of listed backups, sorted. */
export function fileNames(backups: readonly Listed[]): string[] {
  return backups.map((b) => basename(b.path)).sort();
}

/** `tinybackup verify` passes, and says ok for exactly `count` backups. */
export async function assertVerifies(dest: string, count: number): Promise<void> {
  const verify = await tinybackup(["verify", "--dest", dest]);
  assert.equal(verify.code, 0, `verify failed:\n${verify.stdout}${verify.stderr}`);
  const lines = verify.stdout.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, count, `verify checked ${lines.length} backups, not ${count}`);
  assert.ok(lines.every((line) => line.startsWith("ok ")), verify.stdout);
}

/** A standard tool (gunzip -t, zstd -t) accepts the backup; an uncompressed one has its size. */
export async function assertReadableByStandardTools(backup: Listed): Promise<void> {
  if (backup.compression === "gzip") await run("gunzip", ["-t", backup.path]);
  if (backup.compression === "zstd") await run("zstd", ["-q", "-t", backup.path]);
  if (backup.compression === "none") assert.equal((await Deno.stat(backup.path)).size, backup.size);
}

/** Every visible file in DEST is a listed, complete backup: nothing partial, nothing untrusted. */
export async function assertOnlyBackupsVisible(dest: string, listed: readonly Listed[]) {
  assert.deepEqual(
    await visibleFiles(dest),
    fileNames(listed),
    "a visible file in the destination is not a listed backup",
  );
}

/** Files in DEST/.tinybackup/tmp: staged bytes of unfinished runs. */
export async function stagedFiles(dest: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${dest}/.tinybackup/tmp`)) names.push(entry.name);
  return names.sort();
}

/**
 * Entries of DEST/.tinybackup that are not metadata of a backup in DEST:
 * metadata whose backup file is missing, or anything else but the tmp folder.
 */
export async function orphanedMetadata(dest: string): Promise<string[]> {
  const visible = new Set(await visibleFiles(dest));
  const orphans: string[] = [];
  for await (const entry of Deno.readDir(`${dest}/.tinybackup`)) {
    if ((entry.name === "tmp" || entry.name === "locks") && entry.isDirectory) continue;
    const file = entry.name.endsWith(".json") ? entry.name.slice(0, -".json".length) : undefined;
    if (!entry.isFile || file === undefined || !visible.has(file)) orphans.push(entry.name);
  }
  return orphans.sort();
}

/** Hidden entries at the top of DEST other than .tinybackup (a probe file, say). */
export async function hiddenStrays(dest: string): Promise<string[]> {
  const strays: string[] = [];
  for await (const entry of Deno.readDir(dest)) {
    if (entry.name.startsWith(".") && entry.name !== ".tinybackup") strays.push(entry.name);
  }
  return strays.sort();
}

/** Nothing unfinished is left: no staged bytes, no metadata without its backup, no stray file. */
export async function assertNoLeftovers(dest: string): Promise<void> {
  assert.deepEqual(await stagedFiles(dest), [], "staged files remain in .tinybackup/tmp");
  assert.deepEqual(await orphanedMetadata(dest), [], "metadata without a backup remains");
  assert.deepEqual(await hiddenStrays(dest), [], "hidden stray files remain in the destination");
}
