/**
 * The header bytes of one entry of a pax (POSIX.1-2001) tar archive: a ustar
 * header, preceded by a pax extended header (typeflag 'x') whenever a value
 * does not fit ustar exactly. The ustar fields then hold a stand-in, so a
 * reader that knows only ustar still extracts something harmless; pax readers
 * (GNU tar, bsdtar, Python's tarfile) take the exact value from the records.
 *
 * Pure: no I/O. A folder source writes, for each entry, `tarHeader(entry)`,
 * the content, `paddingAfter(size)` zero bytes, and ends with END_OF_ARCHIVE.
 */

/** One thing in the archive, as the folder source sees it on disk. */
export interface TarEntry {
  /** Relative, '/'-separated, no leading '/'; a folder without its trailing '/' (added here). */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Bytes of content: files only, 0 otherwise. May exceed 8 GiB. */
  size: number;
  /** Permission bits, with setuid, setgid and sticky; file type bits (from stat) are ignored. */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Milliseconds since 1970, before it too, with sub-second precision. */
  mtimeMs: number;
  /** What a symlink points to, as readlink returns it; only for symlinks. */
  linkTarget?: string;
}

export const BLOCK_SIZE = 512;

/** The end-of-archive marker: two 512-byte zero blocks. */
export const END_OF_ARCHIVE: Uint8Array = new Uint8Array(2 * BLOCK_SIZE);

/** Bytes of zero padding after `size` content bytes, to the next 512 boundary. */
export function paddingAfter(size: number): number {
  return (BLOCK_SIZE - size % BLOCK_SIZE) % BLOCK_SIZE;
}

/**
 * The 512-byte-aligned header bytes for one entry: a pax extended header
 * record block first when needed, then the ustar header. Throws an Error
 * for an entry no reader could extract safely (see entryProblem).
 */
export function tarHeader(entry: TarEntry): Uint8Array {
  const problem = entryProblem(entry);
  if (problem !== undefined) throw new Error(`cannot archive '${entry.path}': ${problem}`);

  const records: [string, string][] = [];
  const fullName = entry.type === "directory" ? entry.path + "/" : entry.path;
  let names = splitUstarName(fullName);
  if (names === undefined) {
    records.push(["path", fullName]);
    names = fallbackName(fullName);
  }
  let linkname = entry.linkTarget ?? "";
  if (!fitsUstarText(linkname, LINKNAME_BYTES)) {
    records.push(["linkpath", linkname]);
    linkname = fallbackText(linkname, LINKNAME_BYTES);
  }
  if (entry.size > MAX_OCTAL_11) records.push(["size", String(entry.size)]);
  const mtime = paxMtime(entry.mtimeMs);
  if (mtime.record !== undefined) records.push(["mtime", mtime.record]);
  if (entry.uid > MAX_OCTAL_7) records.push(["uid", String(entry.uid)]);
  if (entry.gid > MAX_OCTAL_7) records.push(["gid", String(entry.gid)]);
  let uname = entry.uname ?? "";
  if (!fitsUstarText(uname, OWNER_NAME_BYTES - 1)) {
    records.push(["uname", uname]);
    uname = "";
  }
  let gname = entry.gname ?? "";
  if (!fitsUstarText(gname, OWNER_NAME_BYTES - 1)) {
    records.push(["gname", gname]);
    gname = "";
  }

  const uid = Math.min(entry.uid, MAX_OCTAL_7);
  const gid = Math.min(entry.gid, MAX_OCTAL_7);
  const ustar = ustarBlock({
    ...names,
    mode: entry.mode & 0o7777,
    uid,
    gid,
    // A reader without pax misreads the stream whatever this says; 0 at least claims nothing.
    size: entry.size > MAX_OCTAL_11 ? 0 : entry.size,
    mtime: mtime.ustar,
    typeflag: TYPEFLAGS[entry.type],
    linkname,
    uname,
    gname,
  });
  if (records.length === 0) return ustar;

  const body = encoder.encode(records.map(([key, value]) => paxRecord(key, value)).join(""));
  const extended = ustarBlock({
    name: paxHeaderName(fullName),
    prefix: "",
    mode: 0o644,
    uid,
    gid,
    size: body.length,
    mtime: mtime.ustar,
    typeflag: "x",
    linkname: "",
    uname: "",
    gname: "",
  });
  const header = new Uint8Array(2 * BLOCK_SIZE + body.length + paddingAfter(body.length));
  header.set(extended);
  header.set(body, BLOCK_SIZE);
  header.set(ustar, header.length - BLOCK_SIZE);
  return header;
}

/**
 * Why `entry` cannot be archived, or undefined when it can. A path with
 * '..' or a leading '/' would let an extraction write outside its folder,
 * and an empty component ('a//b', or a trailing '/' that would make a file
 * read as a folder) is never what a folder walk produces.
 */
export function entryProblem(entry: TarEntry): string | undefined {
  const { path } = entry;
  if (path === "") return "the path is empty";
  if (path.includes("\0")) return "the path contains a NUL byte";
  if (path.startsWith("/")) return "the path is absolute";
  const components = path.split("/");
  if (components.includes("..")) return "the path has a '..' component";
  if (components.includes("")) return "the path has an empty component";
  if (entry.type === "symlink") {
    if (!entry.linkTarget) return "a symlink needs a link target";
    if (entry.linkTarget.includes("\0")) return "the link target contains a NUL byte";
  } else if (entry.linkTarget !== undefined) {
    return `a ${entry.type} has no link target`;
  }
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) {
    return `the size ${entry.size} is not a whole number of bytes`;
  }
  if (entry.type !== "file" && entry.size !== 0) return `a ${entry.type} has no content`;
  if (!Number.isSafeInteger(entry.mode) || entry.mode < 0) {
    return `the mode ${entry.mode} is invalid`;
  }
  for (const [what, id] of [["uid", entry.uid], ["gid", entry.gid]] as const) {
    if (!Number.isSafeInteger(id) || id < 0) return `the ${what} ${id} is invalid`;
  }
  for (const [what, name] of [["uname", entry.uname], ["gname", entry.gname]] as const) {
    if (name?.includes("\0")) return `the ${what} contains a NUL byte`;
  }
  if (!Number.isFinite(entry.mtimeMs)) return `the mtime ${entry.mtimeMs} is not a time`;
  return undefined;
}

const encoder = new TextEncoder();

const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
const LINKNAME_BYTES = 100;
/** uname and gname end in a NUL within their 32 bytes. */
const OWNER_NAME_BYTES = 32;

/** The largest values of 7- and 11-digit octal fields (mode, uid, gid; size, mtime). */
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

const TYPEFLAGS: Record<TarEntry["type"], string> = { file: "0", directory: "5", symlink: "2" };

interface UstarFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
}

/** One ustar header block; every text field is ASCII and fits (callers see to it). */
function ustarBlock(fields: UstarFields): Uint8Array {
  const block = new Uint8Array(BLOCK_SIZE);
  const put = (offset: number, text: string) => block.set(encoder.encode(text), offset);
  put(0, fields.name);
  put(100, octalField(fields.mode, 8));
  put(108, octalField(fields.uid, 8));
  put(116, octalField(fields.gid, 8));
  put(124, octalField(fields.size, 12));
  put(136, octalField(fields.mtime, 12));
  put(156, fields.typeflag);
  put(157, fields.linkname);
  put(257, "ustar\0");
  put(263, "00");
  put(265, fields.uname);
  put(297, fields.gname);
  put(329, octalField(0, 8));
  put(337, octalField(0, 8));
  put(345, fields.prefix);
  put(148, checksumField(block));
  return block;
}

/** `value` in octal, zero-filled to fill a `width`-byte field but the NUL that ends it. */
export function octalField(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width - 1) {
    throw new RangeError(`${value} needs more than ${width - 1} octal digits`);
  }
  return digits.padStart(width - 1, "0") + "\0";
}

/**
 * The checksum of a header block, as POSIX defines it: the sum of its bytes,
 * unsigned, with the checksum field itself counted as eight spaces.
 */
export function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum;
}

/** Six octal digits, a NUL and a space: the form every tar has written since V7. */
function checksumField(block: Uint8Array): string {
  return headerChecksum(block).toString(8).padStart(6, "0") + "\0 ";
}

/** ASCII of at most `maxBytes`: what a ustar text field holds exactly. */
function fitsUstarText(text: string, maxBytes: number): boolean {
  return text.length <= maxBytes && isAscii(text);
}

function isAscii(text: string): boolean {
  return /^\p{ASCII}*$/u.test(text);
}

/**
 * `fullName` as ustar's name and prefix fields, which a reader joins with a
 * '/', or undefined when it is not ASCII or no '/' splits it to fit. The
 * name part is never empty, so a folder's trailing '/' is not a split.
 */
export function splitUstarName(fullName: string): { name: string; prefix: string } | undefined {
  if (!isAscii(fullName)) return undefined;
  if (fullName.length <= NAME_BYTES) return { name: fullName, prefix: "" };
  for (let slash = fullName.indexOf("/"); slash !== -1; slash = fullName.indexOf("/", slash + 1)) {
    if (slash > PREFIX_BYTES) break;
    const name = fullName.slice(slash + 1);
    if (name.length <= NAME_BYTES && name !== "") {
      return { name, prefix: fullName.slice(0, slash) };
    }
  }
  return undefined;
}

/**
 * What a ustar-only reader gets when the path is in a pax record: the ASCII
 * form of the path if it fits, else of its last component alone. Both stay
 * inside the folder, since no component is '..' and none becomes one.
 */
function fallbackName(fullName: string): { name: string; prefix: string } {
  const ascii = toAscii(fullName);
  const split = splitUstarName(ascii);
  if (split !== undefined) return split;
  const trailing = fullName.endsWith("/") ? "/" : "";
  const base = ascii.slice(0, ascii.length - trailing.length).split("/").pop()!;
  return { name: base.slice(0, NAME_BYTES - trailing.length) + trailing, prefix: "" };
}

function fallbackText(text: string, maxBytes: number): string {
  return toAscii(text).slice(0, maxBytes);
}

/** Each character outside ASCII becomes '_'. */
function toAscii(text: string): string {
  return text.replace(/\P{ASCII}/gu, "_");
}

/** `PaxHeaders/<basename>`, in ASCII and within the name field: the name is only informative. */
function paxHeaderName(fullName: string): string {
  const base = toAscii(fullName).replace(/\/$/, "").split("/").pop()!;
  const dir = "PaxHeaders/";
  return dir + base.slice(0, NAME_BYTES - dir.length);
}

/**
 * One pax record, "LEN KEY=VALUE\n", where LEN counts the whole record in
 * bytes, its own digits included. So a record of 9 bytes besides them is 11
 * long: "10" would make it 11.
 */
export function paxRecord(key: string, value: string): string {
  const rest = encoder.encode(` ${key}=${value}\n`).length;
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return `${length} ${key}=${value}\n`;
}

/**
 * The mtime for the ustar field (whole seconds, clamped to what 11 octal
 * digits hold) and, when that is not exact, the pax value: decimal seconds
 * with the fraction to the nanosecond. A negative value with a fraction is
 * a plain decimal, "-1.5" for 1.5 s before 1970, as POSIX and GNU tar read
 * it; libarchive 3.6 (bsdtar) reads it as -1 + 0.5, and no spelling suits
 * both.
 */
export function paxMtime(mtimeMs: number): { ustar: number; record?: string } {
  // mtimeMs - floor(mtimeMs) is exact in binary floating point; only the fraction is rounded.
  const wholeMs = Math.floor(mtimeMs);
  const nanos = BigInt(wholeMs) * 1_000_000n + BigInt(Math.round((mtimeMs - wholeMs) * 1e6));
  const negative = nanos < 0n;
  const magnitude = negative ? -nanos : nanos;
  const seconds = magnitude / BILLION;
  const fraction = magnitude % BILLION;
  const flooredSeconds = Number(negative ? -seconds - (fraction === 0n ? 0n : 1n) : seconds);
  const ustar = Math.min(Math.max(flooredSeconds, 0), MAX_OCTAL_11);
  if (fraction === 0n && ustar === flooredSeconds) return { ustar };
  const decimals = fraction === 0n
    ? ""
    : "." + String(fraction).padStart(9, "0").replace(/0+$/, "");
  return { ustar, record: `${negative ? "-" : ""}${seconds}${decimals}` };
}

const BILLION = 1_000_000_000n;
