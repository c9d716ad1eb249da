/**
 * Retention policy: which backups of one series to remove. Pure, so the rule
 * is tested with plain values and applied the same way by backup and prune.
 */
import { parseBackupFileName } from "./naming.ts";

/** The least a backup needs for retention to order it. */
export interface Dated {
  metadata: {
    /** ISO 8601 time the backup was taken. */
    time: string;
    /** File name; orders backups taken within the same millisecond. */
    file: string;
  };
}

/** Orders newest first: by time, then by the sequence number in the name, then by name. */
export function newestFirst(a: Dated, b: Dated): number {
  const [x, y] = [a.metadata, b.metadata];
  if (x.time !== y.time) return x.time < y.time ? 1 : -1;
  const bySequence = sequenceOf(y.file) - sequenceOf(x.file);
  if (bySequence !== 0) return bySequence;
  return x.file < y.file ? 1 : x.file > y.file ? -1 : 0;
}

function sequenceOf(file: string): number {
  return parseBackupFileName(file)?.sequence ?? 0;
}

/**
 * The backups to remove so that only the `keep` newest remain; `keep` 0 keeps
 * all of them. `backups` must all belong to one series.
 */
export function backupsToRemove<T extends Dated>(backups: readonly T[], keep: number): T[] {
  if (keep === 0) return [];
  return [...backups].sort(newestFirst).slice(keep);
}
