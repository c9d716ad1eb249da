/**
 * How backups are named: `<series>.<UTC stamp>[_<n>][.gz|.zst][.age]`, for
 * example `notes.db.20261122T185413Z.gz`. Names sort by time within a
 * series, and standard tools recognise the extensions.
 */

/** The compressions tinybackup writes. */
export const COMPRESSIONS = ["gzip", "zstd", "none"] as const;
export type Compression = typeof COMPRESSIONS[number];

const EXTENSIONS: Record<Compression, string> = { gzip: ".gz", zstd: ".zst", none: "" };

/** What an encrypted backup's name ends in, after the compression's: age's own. */
const ENCRYPTED_EXTENSION = ".age";

/** The file name extension a backup with `compression` ends in. */
export function extensionOf(compression: Compression): string {
  return EXTENSIONS[compression];
}

/**
 * Most file systems allow 255 bytes in a name; metadata files add `.json` to
 * the backup's name, so backup names stay within 250 bytes.
 */
export const MAX_BACKUP_NAME_BYTES = 250;

const encoder = new TextEncoder();

/** Why `name` cannot be a series name, or undefined when it can. */
export function seriesNameProblem(name: string): string | undefined {
  if (name === "") return "the name is empty";
  if (name.includes("/")) return "the name contains '/'";
  if (name.includes("\0")) return "the name contains a NUL byte";
  if (name.startsWith(".")) return "the name starts with '.'";
  if (encoder.encode(name).length > 255) return "the name is longer than 255 bytes";
  return undefined;
}

/** `2026-11-22T18:54:13.123Z` becomes `20261122T185413Z`. */
export function formatStamp(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/**
 * The file name of a backup of `series` taken at `time`. `sequence` counts
 * backups of the series taken within the same second, from 1; the first gets
 * no suffix. A long series name is shortened (on a character boundary) so the
 * whole name fits in MAX_BACKUP_NAME_BYTES; metadata keeps the full name.
 */
export function backupFileName(
  series: string,
  time: Date,
  sequence: number,
  compression: Compression,
  encrypted = false,
): string {
  const suffix = "." + formatStamp(time) + (sequence > 1 ? `_${sequence}` : "") +
    extensionOf(compression) + (encrypted ? ENCRYPTED_EXTENSION : "");
  const room = MAX_BACKUP_NAME_BYTES - encoder.encode(suffix).length;
  let head = series;
  while (encoder.encode(head).length > room) head = [...head].slice(0, -1).join("");
  return head + suffix;
}

/** What a backup's file name says of it. */
export interface ParsedBackupName {
  /** The series name, possibly shortened (see backupFileName). */
  series: string;
  stamp: string;
  sequence: number;
  compression: Compression;
  encrypted: boolean;
}

const BACKUP_NAME = /^(.+)\.(\d{8}T\d{6}Z)(?:_(\d+))?(\.gz|\.zst)?(\.age)?$/s;

/** Parses a name made by backupFileName; undefined for any other name. */
export function parseBackupFileName(fileName: string): ParsedBackupName | undefined {
  const match = BACKUP_NAME.exec(fileName);
  if (!match || match[1].startsWith(".")) return undefined;
  const compression = COMPRESSIONS.find((c) => extensionOf(c) === (match[4] ?? ""))!;
  return {
    series: match[1],
    stamp: match[2],
    sequence: match[3] ? Number(match[3]) : 1,
    compression,
    encrypted: match[5] !== undefined,
  };
}
