/**
 * Retention policy: which backups of one series to remove. Pure, so the rule
 * is tested with plain values and applied the same way by backup and prune.
 */
import { parseBackupFileName } from "./naming.ts";

/** The least a backup needs for retention to order it. */
export interface Dated {
  metadata: {
    /**
     * Counts the series' backups up from 1, each one more than the highest
     * before it. Orders a series even when the clock jumped between backups.
     */
    generation: number;
    /** ISO 8601 time the backup was taken. */
    time: string;
    /** File name; orders backups taken within the same millisecond. */
    file: string;
    /** SHA-256 of the content: backups holding the same one are one version... */
    sha256: string;
    /** ...or the same identity, where they have one (see BackupMetadata.identity). */
    identity?: string;
  };
}

/**
 * Orders one series newest first: by generation, then (for runs that raced
 * to the same generation) by time, sequence number in the name, and name.
 * The clock comes second, so a backup dated a year ahead by a wrong clock
 * never counts as newer than the backups made after it.
 */
export function newestFirst(a: Dated, b: Dated): number {
  const [x, y] = [a.metadata, b.metadata];
  if (x.generation !== y.generation) return y.generation - x.generation;
  return newestByTime(a, b);
}

/** Orders backups of any series by when they were taken, newest first: for people to read. */
export function newestByTime(a: Dated, b: Dated): number {
  const [x, y] = [a.metadata, b.metadata];
  if (x.time !== y.time) return x.time < y.time ? 1 : -1;
  const bySequence = sequenceOf(y.file) - sequenceOf(x.file);
  if (bySequence !== 0) return bySequence;
  return x.file < y.file ? 1 : x.file > y.file ? -1 : 0;
}

function sequenceOf(file: string): number {
  return parseBackupFileName(file)?.sequence ?? 0;
}

/** The generation a new backup of `series` gets: one more than any before it. */
export function nextGeneration(series: readonly Dated[]): number {
  return series.reduce((highest, b) => Math.max(highest, b.metadata.generation), 0) + 1;
}

/**
 * The backups to remove so that the `keep` newest distinct versions remain,
 * each as its newest copy; `keep` 0 keeps all of them. A copy of content
 * that a newer backup also holds is removed: after versions C, A, B, A with
 * keep 3, the backups kept are the last A, B and C. `backups` must all
 * belong to one series.
 */
export function backupsToRemove<T extends Dated>(backups: readonly T[], keep: number): T[] {
  if (keep === 0) return [];
  const versions = new Set<string>();
  return [...backups].sort(newestFirst).filter((backup) => {
    const content = backup.metadata.identity ?? backup.metadata.sha256;
    if (versions.has(content)) return true;
    if (versions.size === keep) return true;
    versions.add(content);
    return false;
  });
}
