/**
 * What pg_dump and pg_dumpall write differently each time for the same
 * data, found in their output so that "unchanged" can ignore it (see
 * identity.ts). Pure: bytes and lines in, ranges and lines out.
 */
import type { Range } from "../identity.ts";

/** Bytes of a custom-format (-Fc) archive that hold its header up to and past the creation time. */
export const CUSTOM_HEAD_BYTES = 64;

/**
 * The creation time in the header of a custom-format archive (pg_dump -Fc):
 * "PGDMP", the archive version (3 bytes), int and offset sizes, the format,
 * the compression (an int before archive version 1.15, one byte since),
 * then the time as seven ints (seconds to isdst), each a sign byte and
 * intSize bytes. Nothing when the head is not such an archive.
 */
export function customArchiveTime(head: Uint8Array): Range[] {
  const magic = new TextDecoder().decode(head.subarray(0, 5));
  if (magic !== "PGDMP" || head.length < 11) return [];
  const [major, minor] = [head[5], head[6]];
  const intSize = head[8];
  if (major !== 1 || intSize < 1 || intSize > 8) return [];
  const compression = minor >= 15 ? 1 : 1 + intSize;
  return [{ offset: 11 + compression, length: 7 * (1 + intSize) }];
}

/**
 * A plain SQL dump's `\restrict KEY` and `\unrestrict KEY` lines (pg_dump
 * and pg_dumpall since 15.14, 16.10, 17.6) with the random key left out;
 * undefined for every other line.
 */
export function restrictKeyMasked(line: string): string | undefined {
  const match = /^\\(un)?restrict [A-Za-z0-9]+(\r?\n)?$/.exec(line);
  return match ? `\\${match[1] ?? ""}restrict${match[2] ?? ""}` : undefined;
}
