/**
 * One backup to several destinations. The source is read once, into the
 * first destination that takes it (a local folder first, where reading the
 * result back costs least); every other destination gets that backup's
 * stored bytes (see copyBackup), so all hold the same bytes. Each
 * destination rotates only once its own copy is in place, and one that
 * fails fails alone: the others keep their new backups.
 */
import { copyBackup } from "../backup/copy_backup.ts";
import { DEFAULT_RETRY_DELAYS } from "../backup/run_backup.ts";
import { UsageError } from "../errors.ts";
import { openSource } from "../sources/open_source.ts";
import { isRemoteUrl } from "../stores/remote_url.ts";
import type { Store } from "../stores/store.ts";
import type { BackupArgs } from "./args.ts";
import { backUpParts, type PartOutcome } from "./back_up_parts.ts";
import { openDestination } from "./destination.ts";

/** What one destination got: each part's outcome, or the error that stopped it. */
export interface DestinationOutcome {
  dest: string;
  outcomes?: PartOutcome[];
  error?: Error;
}

/** Backs up per `runs` (one set of options per destination, as the config gives them). */
export async function backUpToEach(
  runs: readonly BackupArgs[],
  force: boolean,
): Promise<DestinationOutcome[]> {
  const order = runs.map((_, i) => i).sort((a, b) =>
    Number(isRemoteUrl(runs[a].dest)) - Number(isRemoteUrl(runs[b].dest))
  );
  const results: DestinationOutcome[] = runs.map((args) => ({ dest: args.dest }));
  let first: { store: Store; outcomes: PartOutcome[] } | undefined;
  for (const i of order) {
    const args = runs[i];
    try {
      const store = await openDestination(args.dest, false, args.sshConfig);
      if (first) {
        results[i].outcomes = await copyParts(first.store, first.outcomes, store, args, force);
        continue;
      }
      let opened;
      try {
        opened = await openSource(args.source!, args.name, () => store.scratchFile());
      } catch (error) {
        // The source itself cannot be read: no destination would fare better.
        for (const result of results) result.error ??= asError(error);
        return results;
      }
      const outcomes = await backUpParts(opened.parts, {
        store,
        compression: args.compression,
        retention: args.retention,
        force,
        allowChanging: args.allowChanging,
        allowEmpty: args.allowEmpty,
        retryDelays: DEFAULT_RETRY_DELAYS,
        lockWaitSeconds: args.lockWaitSeconds,
      });
      results[i].outcomes = outcomes;
      if (outcomes.some((o) => o.result)) first = { store, outcomes };
    } catch (error) {
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
  force: boolean,
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
