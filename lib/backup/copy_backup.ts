/**
 * Storing a backup made in one destination in another: the stored bytes
 * themselves, streamed across and checked against the checksum the first
 * destination recorded, so every destination of a run holds the same bytes
 * and the source is read once. The copy is a backup of the target's own
 * series: its generation, its lock, its rotation.
 */
import { hostname } from "node:os";
import { createHash } from "node:crypto";
import { RunError } from "../errors.ts";
import type { Source } from "../sources/source.ts";
import type { Store } from "../stores/store.ts";
import type { Backup } from "./catalog.ts";
import { type BackupMetadata, identityOf } from "./metadata.ts";
import { nextGeneration, type Retention } from "./retention.ts";
import {
  accessFor,
  type BackupResult,
  publish,
  removeLeftovers,
  rotate,
  seriesBackups,
} from "./run_backup.ts";
import { lockSeries } from "./series_lock.ts";
import { storedBytesProblem } from "./verify.ts";

export interface CopyOptions {
  /** Where the copy goes. */
  store: Store;
  /** The series name, as in the first destination. */
  name: string;
  /** The source the backup was made from (already read): its origin and who may read it. */
  source: Source;
  retention: Retention;
  /** Copy even when the target's newest backup holds the same content. */
  force: boolean;
  lockWaitSeconds: number;
  /** When the copy was taken: the backup's own time, or this run's for a backup an earlier run made. */
  time: Date;
}

/** Copies `backup`, stored in `from`, into `options.store`; see the module's comment. */
export async function copyBackup(
  from: Store,
  backup: Backup,
  options: CopyOptions,
): Promise<BackupResult> {
  const { store, name, source } = options;
  await seriesBackups(store, name, source);
  await store.prepare();
  await using _lock = await lockSeries(store, name, options.lockWaitSeconds);
  await removeLeftovers(store);
  const series = await seriesBackups(store, name, source);
  const newest = series[0];
  const warnings: string[] = [];
  if (newest && !options.force && identityOf(newest.metadata) === identityOf(backup.metadata)) {
    const damage = await storedBytesProblem(store, newest);
    if (!damage) {
      return { backup: newest, unchanged: true, removed: await rotate(options, newest), warnings };
    }
    warnings.push(`the newest backup ${newest.path} is damaged (${damage}); made a new one`);
  }
  const { metadata } = backup;
  const hash = createHash("sha256");
  let size = 0;
  const staged = await store.stage(
    (async function* () {
      for await (const chunk of from.read(metadata.file)) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    })(),
    () => accessFor(source),
  );
  if (size !== metadata.storedSize || hash.digest("hex") !== metadata.storedSha256) {
    await staged.close();
    throw new RunError(
      `the backup ${backup.path} read back other bytes than it was stored with while it was copied to ${store.location}; no copy was made there`,
      `check it with 'tinybackup verify --dest ${from.location}'`,
    );
  }
  const { file: _, ...rest } = metadata;
  const copy: Omit<BackupMetadata, "file"> = {
    ...rest,
    generation: nextGeneration(series),
    time: options.time.toISOString(),
    // An encrypted backup's host is sealed, and stays its maker's.
    ...(metadata.encryption ? {} : { madeOn: hostname() }),
  };
  const made = await publish(store, staged, copy, options.time);
  return { backup: made, unchanged: false, removed: await rotate(options, made), warnings };
}
