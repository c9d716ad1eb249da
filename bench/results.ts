/** What one bench run measured, as the report and the goals read it. */
import type { Compression } from "../lib/backup/naming.ts";
import type { Machine } from "./machine.ts";
import { median, type Timing } from "./measure.ts";

/** Contenders measured side by side, compared with one of them. */
export interface Table {
  /** Stable key the goals look tables up by, e.g. `gzip-text`. */
  id: string;
  /** The section the table is in, e.g. `gzip`. */
  group: string;
  /** Heading, e.g. `text file, 256 MiB`. */
  title: string;
  /** Label of the contender the others are compared with. */
  reference?: string;
  /** Bytes of input, when output sizes matter. */
  inputBytes?: number;
  timings: Timing[];
}

/**
 * The sources whose peak memory is measured: a file (with every codec), and
 * the others with gzip; `sftp` and `s3` are a file backed up to an SFTP or S3 destination,
 * `encrypted` a file with zstd and an age recipient.
 */
export const MEMORY_SOURCES = [
  "file",
  "command",
  "folder",
  "sqlite",
  "postgres",
  "sftp",
  "s3",
  "encrypted",
] as const;
export type MemorySource = typeof MEMORY_SOURCES[number];

/** Peak resident memory of one backup. */
export interface MemoryResult {
  source: MemorySource;
  sourceBytes: number;
  compression: Compression;
  /** Undefined when it could not be measured here. */
  peakKiB?: number;
}

export interface Results {
  /** The command that made these results. */
  command: string;
  /** When the run started, ISO 8601. */
  date: string;
  smoke: boolean;
  /** Size of each data file, in bytes. */
  dataBytes: number;
  repeat: number;
  /** Runs of start-up, a tenth of a second each: short enough for noise to matter. */
  startupRepeat: number;
  /** Backups in the destination list and prune run in. */
  backupCount: number;
  /** Seconds the whole bench took. */
  elapsed: number;
  machine: Machine;
  tables: Table[];
  memory: MemoryResult[];
  /** Why peak memory was not measured, if it was not. */
  memoryMissing?: string;
}

/** The median seconds of contender `label` in table `id`; NaN when it was not measured. */
export function medianOf(results: Results, id: string, label: string): number {
  const timing = results.tables.find((t) => t.id === id)?.timings.find((t) => t.label === label);
  return median(timing?.seconds ?? []);
}

/** Output bytes of contender `label` in table `id`; NaN when unknown. */
export function outputOf(results: Results, id: string, label: string): number {
  const timing = results.tables.find((t) => t.id === id)?.timings.find((t) => t.label === label);
  return timing?.outputBytes ?? NaN;
}

/** `bytes` for people: B, KiB, MiB or GiB with up to one decimal. */
export function humanBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "n/a";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) value /= 1024, unit++;
  return `${Number(value.toFixed(value < 10 ? 2 : 1))} ${units[unit]}`;
}
