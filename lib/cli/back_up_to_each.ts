/**
 * One backup to several destinations. The source is read once, into the
 * first destination that takes it (a local folder first, where reading the
 * result back costs least); every other destination gets that backup's
 * stored bytes (see copyBackup), so all hold the same bytes. Each
 * destination rotates only once its own copy is in place, and one that
 * fails fails alone: the others keep their new backups.
 */
import { copyBackup } from "../backup/copy_backup.ts";
import { DEFAULT_RETRY_DELAYS, seriesBackups } from "../backup/run_backup.ts";
import { UsageError } from "../errors.ts";
import { openSource } from "../sources/open_source.ts";
import { isRemoteUrl } from "../stores/remote_url.ts";
import type { Store } from "../stores/store.ts";
import type { BackupArgs } from "./args.ts";
import { backUpParts, type PartOutcome } from "./back_up_parts.ts";
import { openDestination } from "./destination.ts";
import { resolveEncryption } from "./encryption_keys.ts";

/** What one destination got: each part's outcome, or the error that stopped it. */
export interface DestinationOutcome {
  dest: string;
  outcomes?: PartOutcome[];
  error?: Error;
}

/**
 * Backs up per `runs` (one set of options per destination, as the config
 * gives them). Every destination is opened and its series checked before the
 * source is read, so bad input at any of them (a bucket that is not there, a
 * name another source's backups hold) stops the backup with nothing written.
 * @throws {UsageError} for such bad input, or a source that cannot be backed up
 */
export async function backUpToEach(
  runs: readonly BackupArgs[],
  force: boolean,
): Promise<DestinationOutcome[]> {
  const order = runs.map((_, i) => i).sort((a, b) =>
    Number(isRemoteUrl(runs[a].dest)) - Number(isRemoteUrl(runs[b].dest))
  );
  const results: DestinationOutcome[] = runs.map((args) => ({ dest: args.dest }));
  const time = new Date();
  const stores = new Map<number, Store>();
  const refuseOrNote = (i: number, error: unknown) => {
    if (error instanceof UsageError) {
      throw runs.length === 1
        ? error
        : new UsageError(`${runs[i].dest}: ${error.message}`, error.hint, error.more);
    }
    results[i].error = asError(error);
    stores.delete(i);
  };
  for (const i of order) {
    try {
      stores.set(i, await openDestination(runs[i].dest, false, runs[i].sshConfig));
    } catch (error) {
      refuseOrNote(i, error);
    }
  }
  const firstOpen = order.find((i) => stores.has(i));
  if (firstOpen === undefined) return results;
  const { source, name, encryption: spec } = runs[firstOpen];
  const { parts } = await openSource(source!, name, () => stores.get(firstOpen)!.scratchFile());
  // One encryption for every destination: they all get the first one's stored bytes.
  const encryption = spec && await resolveEncryption(spec);
  for (const [i, store] of [...stores]) {
    try {
      for (const part of parts) await seriesBackups(store, part.series, part.source);
    } catch (error) {
      refuseOrNote(i, error);
    }
  }

  let first: { store: Store; outcomes: PartOutcome[] } | undefined;
  for (const i of order) {
    const store = stores.get(i);
    if (!store) continue;
    const args = runs[i];
    try {
      if (first) {
        results[i].outcomes = await copyParts(first.store, first.outcomes, store, args, {
          force,
          time,
        });
        continue;
      }
      const outcomes = await backUpParts(parts, {
        store,
        compression: args.compression,
        retention: args.retention,
        force,
        allowChanging: args.allowChanging,
        allowEmpty: args.allowEmpty,
        retryDelays: DEFAULT_RETRY_DELAYS,
        lockWaitSeconds: args.lockWaitSeconds,
        encryption,
      });
      results[i].outcomes = outcomes;
      if (outcomes.some((o) => o.result)) first = { store, outcomes };
    } catch (error) {
      // Bad input while nothing is written yet is the source's: no destination would fare better.
      if (error instanceof UsageError && !first) throw error;
      results[i].error = asError(error);
    }
  }
  return results;
}

/** The parts the first destination stored, copied to `store`; a part that failed there fails here too. */
async function copyParts(
  from: Store,
  made: PartOutcome[],
  store: Store,
  args: BackupArgs,
  { force, time }: { force: boolean; time: Date },
): Promise<PartOutcome[]> {
  const outcomes: PartOutcome[] = [];
  for (const { part, result } of made) {
    if (!result) {
      outcomes.push({
        part,
        error: new Error("not backed up: it failed in the first destination"),
      });
      continue;
    }
    try {
      const copied = await copyBackup(from, result.backup, {
        store,
        name: part.series,
        source: part.source,
        retention: args.retention,
        force,
        lockWaitSeconds: args.lockWaitSeconds,
        // A backup found unchanged was made by an earlier run: its copy is this run's.
        time: result.unchanged ? time : new Date(result.backup.metadata.time),
      });
      outcomes.push({ part, result: copied });
    } catch (error) {
      // A single part's failure is the destination's.
      if (made.length === 1) throw error;
      outcomes.push({ part, error: asError(error) });
    }
  }
  return outcomes;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new UsageError(String(error));
}
