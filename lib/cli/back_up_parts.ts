/**
 * The backups of one run, one per part, with one timestamp. A single part
 * fails as a backup fails. Of several (`--postgres all`), each is its own
 * series: one that fails rotates nothing of its own series, and the others
 * go on and are kept.
 */
import { type BackupOptions, type BackupResult, runBackup } from "../backup/run_backup.ts";
import { RunError } from "../errors.ts";
import type { Part } from "../sources/part.ts";

export interface PartOutcome {
  part: Part;
  /** Set when the part was backed up (or found unchanged). */
  result?: BackupResult;
  /** Set when it failed (several parts only: one part's failure is thrown). */
  error?: Error;
}

export async function backUpParts(
  parts: Part[],
  options: Omit<BackupOptions, "source" | "name" | "time">,
): Promise<PartOutcome[]> {
  if (parts.length === 1) {
    const [part] = parts;
    return [{
      part,
      result: await runBackup({ ...options, source: part.source, name: part.series }),
    }];
  }
  const time = new Date();
  const outcomes: PartOutcome[] = [];
  for (const part of parts) {
    try {
      const result = await runBackup({ ...options, source: part.source, name: part.series, time });
      outcomes.push({ part, result });
    } catch (error) {
      outcomes.push({ part, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return outcomes;
}

/** The run's failure when some parts failed: which ones and why, and that the others were kept. */
export function failureOf(outcomes: PartOutcome[]): RunError | undefined {
  const failed = outcomes.filter((o) => o.error);
  if (failed.length === 0) return undefined;
  const reasons = failed.map((o) => `${o.part.series}: ${o.error!.message}`).join("; ");
  const kept = outcomes.length - failed.length;
  return new RunError(
    `${failed.length} of ${outcomes.length} parts failed (${reasons}); the ${kept} other${
      kept === 1 ? "" : "s"
    } were backed up`,
  );
}
