/**
 * One backup run: read the source once, store a compressed, checked copy
 * atomically, then rotate the series. It ends with one more complete backup,
 * or with the destination as it was.
 */
import { hostname } from "node:os";
import { RunError, UsageError } from "../errors.ts";
import type { Source } from "../sources/source.ts";
import type { Staged, Store } from "../stores/store.ts";
import { VERSION } from "../version.ts";
import type { BackupEncryption } from "./backup_encryption.ts";
import { type Backup, readCatalog } from "./catalog.ts";
import { encode, type Encoded } from "./encode.ts";
import {
  type BackupMetadata,
  describeSource,
  formatMetadata,
  identityOf,
  METADATA_DIR,
  METADATA_FORMAT,
  metadataPathFor,
  type Origin,
  sameOrigin,
  sameSeriesOrigin,
} from "./metadata.ts";
import { seal } from "./sealed_metadata.ts";
import { contentTag, originTag, seriesTagKey, tagKeyPath } from "./series_tags.ts";
import { backupFileName, type Compression, parseBackupFileName } from "./naming.ts";
import { type Access, backupAccess, PRIVATE } from "./permissions.ts";
import { backupsToRemove, newestFirst, nextGeneration, type Retention } from "./retention.ts";
import { lockSeries } from "./series_lock.ts";
import { storedBytesProblem } from "./verify.ts";

export interface BackupOptions {
  source: Source;
  /** Series name. */
  name: string;
  store: Store;
  compression: Compression;
  /** Which backups of the series to keep (see retentionPlan). */
  retention: Retention;
  /** Make a new backup even when the content equals the newest one. */
  force: boolean;
  /** Accept the last read of a source that never held still. */
  allowChanging: boolean;
  /** Accept empty content from a source where that usually means failure. */
  allowEmpty: boolean;
  /** Waits between reads of a changing source, in milliseconds. */
  retryDelays: readonly number[];
  /** How long to wait for another run of the series to finish, in seconds. */
  lockWaitSeconds: number;
  /** The backup's time, shared by the parts of one run; now if not given. */
  time?: Date;
  /** Told how many bytes have been read, as reading goes. */
  onProgress?: (bytesRead: number) => void;
  /** Encrypt the backup with age; see BackupEncryption. */
  encryption?: BackupEncryption;
}

export interface BackupResult {
  /** The new backup, or the newest existing one when the content was unchanged. */
  backup: Backup;
  unchanged: boolean;
  /** Backups removed by rotation. */
  removed: Backup[];
  /** What the user should know although the run succeeded. */
  warnings: string[];
}

/** The waits between reads of a source that changes while read. */
export const DEFAULT_RETRY_DELAYS = [250, 1000, 3000];

/**
 * The series' backups in `store`, newest first, after checking the name is
 * not another source's.
 */
export async function seriesBackups(store: Store, name: string, source: Source): Promise<Backup[]> {
  const { backups } = await readCatalog(store);
  const series = backups.filter((b) => b.metadata.name === name).sort(newestFirst);
  const here = await originHere(source, series);
  const other = series.find((b) => !sameSeriesOrigin(b.metadata, here));
  if (other?.metadata.encryption) {
    throw new UsageError(
      `${store.location} already holds encrypted backups named '${name}' that this machine did not make (or made before its tag key ${tagKeyPath()} was lost)`,
      "pass --name to give this source's backups a name of their own",
    );
  }
  if (other) {
    const elsewhere = sameOrigin(other.metadata.source, here.source);
    throw new UsageError(
      `${store.location} already holds backups named '${name}' of ${
        elsewhere
          ? `the same source made on another machine (${other.metadata.madeOn})`
          : `another source (${describeSource(other.metadata.source)})`
      }`,
      "pass --name to give this source's backups a name of their own",
    );
  }
  return series;
}

/**
 * What a backup made now of `source` records as its origin: the source, and
 * this machine; and its keyed tag, when `series` has encrypted backups to
 * compare it with (only then is the tag key read).
 */
async function originHere(source: Source, series: readonly Backup[]): Promise<Origin> {
  const key = series.some((b) => b.metadata.encryption) ? await seriesTagKey(false) : undefined;
  const info = source.info();
  const host = hostname();
  return { source: info, madeOn: host, originTag: key && originTag(key, info, host) };
}

/** Makes one backup; see BackupOptions. */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const { store, name, source, encryption } = options;
  // Made before anything is read, so that the series check and the tags agree.
  const tagKey = encryption && await seriesTagKey(true);
  // Bad input stops the run before anything is written.
  await seriesBackups(store, name, source);
  await store.prepare();
  await using _lock = await lockSeries(store, name, options.lockWaitSeconds);
  await removeLeftovers(store);
  // Read again under the lock: the newest backup and generation are now settled.
  const series = await seriesBackups(store, name, source);
  const warnings: string[] = [];

  const time = options.time ?? new Date();
  const { staged, encoded, changedWhileRead } = await stageConsistentRead(options);
  warnings.push(...source.warnings?.() ?? []);
  const emptyProblem = encoded.size === 0 ? source.unexpectedlyEmpty() : undefined;
  if (emptyProblem && !options.allowEmpty) {
    await staged.close();
    throw new RunError(
      `${emptyProblem}; no backup was made`,
      "pass --allow-empty if an empty backup is what you want",
    );
  }
  const identity = source.identity?.();
  const plainIdentity = identityOf({ sha256: encoded.sha256, identity });
  const version = tagKey ? contentTag(tagKey, plainIdentity, encryption.readers) : plainIdentity;
  const newest = series[0];
  if (newest && !options.force && identityOf(newest.metadata) === version) {
    // "Unchanged" is only as good as the backup it points to.
    const damage = await storedBytesProblem(store, newest);
    if (!damage) {
      await staged.close();
      return { backup: newest, unchanged: true, removed: await rotate(options, newest), warnings };
    }
    warnings.push(`the newest backup ${newest.path} is damaged (${damage}); made a new one`);
  }
  const checksums = {
    sha256: encoded.sha256,
    ...(identity !== undefined && identity !== encoded.sha256 ? { identity } : {}),
  };
  const metadata: Omit<BackupMetadata, "file"> = {
    format: METADATA_FORMAT,
    name,
    generation: nextGeneration(series),
    source: tagKey ? { kind: "sealed" } : source.info(),
    time: time.toISOString(),
    compression: options.compression,
    size: encoded.size,
    storedSize: encoded.storedSize,
    storedSha256: encoded.storedSha256,
    ...(tagKey ? {} : checksums),
    changedWhileRead,
    tool: `tinybackup ${VERSION}`,
    ...(tagKey ? {} : { madeOn: hostname() }),
    ...(tagKey ? { encryption: encryptionOf(tagKey, version, checksums, encoded, source) } : {}),
  };
  const backup = await publish(store, staged, metadata, time);
  return { backup, unchanged: false, removed: await rotate(options, backup), warnings };
}

/**
 * An encrypted backup's metadata of its own: keyed tags in the clear, and
 * what only the key holder may read sealed (with the tags again, binding them).
 */
function encryptionOf(
  tagKey: Uint8Array,
  contentTag: string,
  checksums: { sha256: string; identity?: string },
  encoded: Encoded,
  source: Source,
): NonNullable<BackupMetadata["encryption"]> {
  const host = hostname();
  const tags = { originTag: originTag(tagKey, source.info(), host), contentTag };
  return {
    format: "age",
    ...tags,
    sealed: seal({ source: source.info(), ...checksums, madeOn: host, ...tags }, encoded.fileKey!),
  };
}

/**
 * Reads and stores the source until a read sees it hold still, waiting
 * longer each time; after the last try, fails or (when allowed) keeps it.
 */
async function stageConsistentRead(options: BackupOptions): Promise<
  { staged: Staged; encoded: Encoded; changedWhileRead: boolean }
> {
  const { source, store } = options;
  const delays = source.rereadable ? options.retryDelays : [];
  for (let attempt = 0;; attempt++) {
    const { output, summary } = encode(
      source.read(),
      options.compression,
      options.onProgress,
      options.encryption?.recipients,
    );
    const mayKeepChanged = attempt === delays.length && options.allowChanging;
    // A read kept although the source changed must also be what is stored: a
    // copy made beside it may hold other bytes than were hashed. An encrypted
    // one is never the source's bytes.
    const staged = await stage(
      store,
      source,
      options.compression,
      output,
      !mayKeepChanged && !options.encryption,
    );
    const changed = await source.changedDuringLastRead();
    if (!changed || mayKeepChanged) {
      return { staged, encoded: summary(), changedWhileRead: changed };
    }
    await staged.close();
    if (attempt === delays.length) {
      const what = source.whatChanged?.();
      throw new RunError(
        `${describeSource(source.info())} kept changing while it was read (${attempt + 1} tries${
          what ? `: ${what}` : ""
        }); no backup was made`,
        "back it up when nothing writes to it, or pass --allow-changing to keep a copy that may be inconsistent",
      );
    }
    await new Promise((wake) => setTimeout(wake, delays[attempt]));
  }
}

/**
 * Stores the encoded content. Uncompressed, a local file is copied by the
 * kernel (as cp does) while this thread reads and hashes it: the two run
 * side by side, and the source's change check afterwards covers both. The
 * staged copy sits in the store's private folder, so the mode the kernel
 * gives it while it fills exposes nothing.
 */
async function stage(
  store: Store,
  source: Source,
  compression: Compression,
  encoded: AsyncIterable<Uint8Array>,
  mayCopy: boolean,
): Promise<Staged> {
  const output = abortingEarlyEnd(encoded, source);
  // Asked once the read is over: the read settles who may read the source.
  const access = () => accessFor(source);
  if (!mayCopy || compression !== "none" || !store.stageCopy) {
    return await store.stage(output, access);
  }
  const reading = output[Symbol.asyncIterator]();
  // The first chunk opens the source and notes its state, before the copy begins.
  const first = await reading.next();
  const file = source.openFile;
  if (!file) return await store.stage(replay(first, reading), access);
  const copying = store.stageCopy(file, access);
  try {
    for (let next = first; !next.done; next = await reading.next());
  } catch (error) {
    await (await copying.catch(() => undefined))?.close();
    throw error;
  } finally {
    // Ended early or not, the source's own cleanup (a command stopped, a scratch file removed) runs.
    await reading.return?.(undefined);
  }
  return await copying;
}

/**
 * `output`, passed on; if its consumer stops before the end (a store that
 * failed), the source is told at once (Source.abort), before the stages in
 * between are unwound: one of them may be waiting on the source, and the
 * source on its producer (a command still running after its last output).
 */
async function* abortingEarlyEnd(
  output: AsyncIterable<Uint8Array>,
  source: Source,
): AsyncGenerator<Uint8Array> {
  const reading = output[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (let next = await reading.next(); !next.done; next = await reading.next()) {
      yield next.value;
    }
    finished = true;
  } finally {
    if (!finished) source.abort?.();
    await reading.return?.(undefined);
  }
}

/** A read that has begun, whole again: the chunk taken already, then the rest. */
async function* replay(
  first: IteratorResult<Uint8Array>,
  rest: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  try {
    for (let next = first; !next.done; next = await rest.next()) yield next.value;
  } finally {
    // A store that stops early must still let the source clean up after itself.
    await rest.return?.(undefined);
  }
}

/** A backup is never readable by anyone its source is not readable by, nor writable at all. */
export function accessFor(source: Source): Access {
  const ownership = source.ownership();
  const me = Deno.uid();
  return ownership && me !== null ? backupAccess(ownership, me) : PRIVATE;
}

/**
 * Publishes metadata first and the backup file last: the backup file
 * appearing is the moment the backup exists. A crash in between leaves
 * metadata without a file, which nothing trusts and the next run removes.
 * Names taken by other runs in the same second get a sequence number.
 */
export async function publish(
  store: Store,
  staged: Staged,
  partial: Omit<BackupMetadata, "file">,
  time: Date,
): Promise<Backup> {
  try {
    const first = await firstUnusedSequence(store, partial, time);
    for (let sequence = first; sequence < first + 1000; sequence++) {
      const file = backupFileName(
        partial.name,
        time,
        sequence,
        partial.compression,
        partial.encryption !== undefined,
      );
      const metadata: BackupMetadata = { ...partial, file };
      const text = new TextEncoder().encode(formatMetadata(metadata));
      const stagedMetadata = await store.stage([text], () => PRIVATE);
      try {
        if (!(await stagedMetadata.publish(metadataPathFor(file)))) continue;
        let published = false;
        try {
          published = await staged.publish(file);
        } finally {
          // Taken by a file that is not ours, or failed: give back the metadata name.
          if (!published) await store.remove(metadataPathFor(file));
        }
        if (published) return { metadata, path: store.pathOf(file) };
      } finally {
        await stagedMetadata.close();
      }
    }
    throw new RunError(`no free backup name for '${partial.name}' in ${store.location}`);
  } finally {
    await staged.close();
  }
}

/**
 * One more than the highest sequence number in use for this series and
 * second, by a backup or by the metadata published just before it. Gaps are
 * never filled: a gap is usually a name whose backup was rotated away, and
 * taking it again would make the path another run printed name this backup.
 */
async function firstUnusedSequence(
  store: Store,
  partial: Omit<BackupMetadata, "file">,
  time: Date,
): Promise<number> {
  const metadataNames = await store.list(METADATA_DIR);
  const names = [...await store.list(""), ...metadataNames.map((m) => m.slice(0, -".json".length))];
  let highest = 0;
  for (const name of names) {
    const sequence = parseBackupFileName(name)?.sequence;
    if (
      sequence !== undefined &&
      name === backupFileName(
          partial.name,
          time,
          sequence,
          partial.compression,
          partial.encryption !== undefined,
        )
    ) {
      highest = Math.max(highest, sequence);
    }
  }
  return highest + 1;
}

/**
 * Applies the retention policy to the series, reading the destination again (under the
 * series lock, so it holds exactly what this run left). The backup this run
 * made is never removed.
 */
export async function rotate(
  options: Pick<BackupOptions, "store" | "name" | "source" | "retention">,
  made: Backup,
): Promise<Backup[]> {
  const { backups } = await readCatalog(options.store);
  const named = backups.filter((b) => b.metadata.name === options.name);
  const origin = await originHere(options.source, named);
  const series = named.filter((b) => sameSeriesOrigin(b.metadata, origin));
  const doomed = (await backupsToRotate(options.store, series, options.retention, made))
    .filter((b) => b.metadata.file !== made.metadata.file);
  await removeBackups(options.store, doomed);
  return doomed;
}

/**
 * What `retention` removes from one series (see retentionPlan), less the spare
 * copies of a version whose kept copy is damaged: those are the version's
 * last good copies. `whole` is a backup known to be intact (the one this
 * run made or checked), spared the re-read.
 */
export async function backupsToRotate(
  store: Store,
  series: readonly Backup[],
  retention: Retention,
  whole?: Backup,
): Promise<Backup[]> {
  const doomed = backupsToRemove(series, retention);
  const kept = new Map(
    series.filter((b) => !doomed.includes(b)).map((b) => [identityOf(b.metadata), b]),
  );
  const damaged = new Set<string>();
  for (const content of new Set(doomed.map((b) => identityOf(b.metadata)))) {
    const copy = kept.get(content);
    if (
      copy && copy.metadata.file !== whole?.metadata.file && await storedBytesProblem(store, copy)
    ) {
      damaged.add(content);
    }
  }
  return doomed.filter((b) => !damaged.has(identityOf(b.metadata)));
}

/**
 * Removes backups: every file first, then (once that is durable) their
 * metadata, so no crash or power loss leaves a backup file without metadata.
 */
export async function removeBackups(store: Store, backups: readonly Backup[]): Promise<void> {
  if (backups.length === 0) return;
  for (const backup of backups) await store.remove(backup.metadata.file);
  await store.sync("");
  for (const backup of backups) await store.remove(metadataPathFor(backup.metadata.file));
}

/** Removes what killed runs left: staged bytes, and metadata whose backup never appeared. */
export async function removeLeftovers(store: Store): Promise<void> {
  await store.removeLeftovers();
  for (const metadataName of (await readCatalog(store)).orphanedMetadata) {
    // The catalog may be stale: a run may have published the file since.
    const file = metadataName.slice(METADATA_DIR.length + 1, -".json".length);
    await store.removeIfAbandoned(metadataName, async () => !(await store.exists(file)));
  }
}
