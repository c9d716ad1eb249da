/**
 * A remote folder's listing, as the host's `find` prints it and its `sort`
 * orders it, filtered here by our own --exclude rules (so they mean the
 * same as for a local folder) before GNU tar on the host archives what is
 * left. Pure.
 *
 * Each record is `./PATH` `\x01` TYPE `\0`, TYPE being find's %y letter.
 * Sorted as bytes, a folder comes before everything in it ("\x01" sorts
 * before "/"), so one pass can leave out an excluded folder's contents.
 */
import type { Exclude } from "../folder/exclude.ts";

/** find's -printf format of one record, and sort's order for them. */
export const RECORD_FORMAT = "%p\\001%y\\0";

/** The entries tar can store: files, folders, symbolic links. */
const STORED_TYPES = new Set(["f", "d", "l"]);

export interface Listed {
  /** Relative to the backed-up folder, '/'-separated. */
  path: string;
  /** find's %y: f, d, l, or another kind (p, s, b, c, D). */
  type: string;
}

/** One record's fields, or undefined for one that is not a record. */
export function parseRecord(record: string): Listed | undefined {
  const cut = record.lastIndexOf("\x01");
  if (cut < 0 || !record.startsWith("./")) return undefined;
  return { path: record.slice(2, cut), type: record.slice(cut + 1) };
}

/** What becomes of one entry. */
export type Verdict =
  | { keep: true }
  | { keep: false; leftOut?: string };

/** Decides entry by entry, in the listing's order, what goes into the tar. */
export class ListingFilter {
  /** Folders left out: everything in them is too. */
  readonly #dropped = new Set<string>();

  constructor(private readonly exclude: Exclude) {}

  judge(entry: Listed): Verdict {
    if (this.#insideDropped(entry.path)) return { keep: false };
    const isFolder = entry.type === "d";
    if (entry.path.includes("\uFFFD")) {
      if (isFolder) this.#dropped.add(entry.path);
      // Its name is bytes that are not UTF-8: it could not be named back to tar exactly.
      return { keep: false, leftOut: `${entry.path} (its name is not valid UTF-8)` };
    }
    if (this.exclude.matches(entry.path, isFolder)) {
      if (isFolder) this.#dropped.add(entry.path);
      return { keep: false };
    }
    if (!STORED_TYPES.has(entry.type)) {
      return {
        keep: false,
        leftOut: `${entry.path} (not a file, folder or link: a device, FIFO or socket)`,
      };
    }
    return { keep: true };
  }

  #insideDropped(path: string): boolean {
    if (this.#dropped.size === 0) return false;
    for (let slash = path.indexOf("/"); slash >= 0; slash = path.indexOf("/", slash + 1)) {
      if (this.#dropped.has(path.slice(0, slash))) return true;
    }
    return false;
  }
}

/**
 * What one line of find's error output says about an entry: that it
 * vanished or could not be read. Undefined for any other message.
 */
export function findMessage(line: string): string | undefined {
  const match = /^g?find: ['‘]\.\/(.*)['’]: (.+)$/.exec(line);
  if (!match) return undefined;
  const [, path, reason] = match;
  if (reason === "No such file or directory") {
    return `${path} (it vanished while the folder was read)`;
  }
  if (reason === "Permission denied") return `${path} (permission denied)`;
  return undefined;
}
