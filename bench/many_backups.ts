/**
 * A destination holding thousands of backups of one series, for timing list
 * and prune. Running tinybackup that many times would take minutes, so the
 * files are written directly, with the project's own naming and metadata
 * code: they stay what tinybackup itself writes, and verify would pass.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  type BackupMetadata,
  formatMetadata,
  METADATA_DIR,
  METADATA_FORMAT,
  metadataPathFor,
} from "../lib/backup/metadata.ts";
import { backupFileName } from "../lib/backup/naming.ts";
import { VERSION } from "../lib/version.ts";

/** A backup to write: its file name, its stored bytes and its metadata. */
export interface MadeBackup {
  file: string;
  stored: Uint8Array;
  metadata: BackupMetadata;
}

/**
 * `count` small gzip backups of series `name`, taken from `sourcePath` one
 * minute apart, oldest first. Each holds different content, so each has its
 * own hash, as a real series would.
 */
export function seriesOf(name: string, sourcePath: string, count: number): MadeBackup[] {
  const newest = Date.UTC(2026, 10, 22, 12, 0, 0);
  const backups: MadeBackup[] = [];
  for (let i = 0; i < count; i++) {
    // Distinct seconds give distinct names; the milliseconds vary as real ones do.
    const time = new Date(newest - (count - 1 - i) * 60_000 + (i * 7) % 1000);
    const content = new TextEncoder().encode(`version ${i} of ${name}\n`);
    const stored = gzipSync(content, { level: 6 });
    const file = backupFileName(name, time, 1, "gzip");
    backups.push({
      file,
      stored,
      metadata: {
        format: METADATA_FORMAT,
        file,
        name,
        generation: i + 1,
        source: { kind: "file", path: sourcePath, mode: 0o644, mtime: time.toISOString() },
        time: time.toISOString(),
        compression: "gzip",
        size: content.length,
        storedSize: stored.length,
        storedSha256: createHash("sha256").update(stored).digest("hex"),
        sha256: createHash("sha256").update(content).digest("hex"),
        changedWhileRead: false,
        tool: VERSION,
      },
    });
  }
  return backups;
}

/** Writes `backups` into the destination `dest` as tinybackup lays them out, modes included. */
export async function writeBackups(dest: string, backups: MadeBackup[]): Promise<void> {
  await Deno.mkdir(join(dest, METADATA_DIR), { recursive: true, mode: 0o700 });
  // mkdir's mode is cut by the umask; tinybackup's folder is 0700 whatever the umask.
  await Deno.chmod(join(dest, METADATA_DIR), 0o700);
  const writeOne = async (backup: MadeBackup) => {
    await Deno.writeFile(join(dest, backup.file), backup.stored, { mode: 0o600 });
    await Deno.writeTextFile(
      join(dest, metadataPathFor(backup.file)),
      formatMetadata(backup.metadata),
      {
        mode: 0o600,
      },
    );
  };
  // A few writes at a time: thousands of small files are written in a second, not ten.
  const BATCH = 64;
  for (let at = 0; at < backups.length; at += BATCH) {
    await Promise.all(backups.slice(at, at + BATCH).map(writeOne));
  }
}
