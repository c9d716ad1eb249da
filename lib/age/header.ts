/**
 * The age v1 header (https://age-encryption.org/v1): a version line, one
 * stanza per recipient (the file key, wrapped), and an HMAC of it all under
 * a key derived from the file key, so no recipient can be swapped in or out.
 */
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

const VERSION_LINE = "age-encryption.org/v1";
const COLUMNS = 64;
/** More than any real header needs; a stream without its end in this many bytes is not age. */
const MAX_HEADER_BYTES = 1024 * 1024;

export interface Stanza {
  type: string;
  args: string[];
  body: Uint8Array;
}

/** A file that is not age, or whose header is damaged or forged. */
export class AgeFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgeFormatError";
  }
}

export function base64Encode(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

/** Strict unpadded base64, as age writes it; undefined for anything else. */
export function base64Decode(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, "base64"));
  // Canonical only: no stray bits in the last character.
  return base64Encode(bytes) === text ? bytes : undefined;
}

function headerMacKey(fileKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", fileKey, new Uint8Array(0), "header", 32));
}

function macOf(fileKey: Uint8Array, text: string): Buffer {
  return createHmac("sha256", headerMacKey(fileKey)).update(text).digest();
}

/** The header's bytes for `stanzas`, MAC included. */
export function formatHeader(stanzas: readonly Stanza[], fileKey: Uint8Array): Uint8Array {
  let text = VERSION_LINE + "\n";
  for (const stanza of stanzas) {
    text += ["->", stanza.type, ...stanza.args].join(" ") + "\n";
    const body = base64Encode(stanza.body);
    // Full lines, then one shorter line (empty when the body fills its lines exactly).
    for (let at = 0;; at += COLUMNS) {
      const line = body.slice(at, at + COLUMNS);
      text += line + "\n";
      if (line.length < COLUMNS) break;
    }
  }
  text += "---";
  return new TextEncoder().encode(`${text} ${base64Encode(macOf(fileKey, text))}\n`);
}

export interface ParsedHeader {
  stanzas: Stanza[];
  /** Checks the MAC with the unwrapped file key. */
  macMatches(fileKey: Uint8Array): boolean;
  /** Header bytes, up to where the payload begins. */
  length: number;
}

/**
 * Parses the header at the start of `bytes`; undefined when `bytes` ends
 * before the header does (read more).
 * @throws {AgeFormatError} when it is not an age v1 header
 */
export function parseHeader(bytes: Uint8Array): ParsedHeader | undefined {
  const notAge = (why: string): never => {
    throw new AgeFormatError(`not an age file (${why})`);
  };
  const prefix = new TextEncoder().encode(VERSION_LINE + "\n");
  const head = bytes.subarray(0, prefix.length);
  if (head.some((b, i) => b !== prefix[i])) notAge("it does not begin as age v1 does");
  const macLine = findMacLineEnd(bytes);
  if (macLine === undefined) {
    if (bytes.length > MAX_HEADER_BYTES) notAge("its header does not end");
    return undefined;
  }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, macLine));
  const lines = text.split("\n");
  const stanzas: Stanza[] = [];
  let index = 1;
  while (lines[index].startsWith("-> ")) {
    const args = lines[index].slice(3).split(" ");
    if (args.some((arg) => !/^[\x21-\x7e]+$/.test(arg))) notAge("a stanza line is malformed");
    const parts: string[] = [];
    for (index++;; index++) {
      const line = lines[index];
      if (line === undefined || line.startsWith("---")) notAge("a stanza body does not end");
      if (line.length > COLUMNS) notAge("a stanza body line is too long");
      parts.push(line);
      if (line.length < COLUMNS) break;
    }
    index++;
    const body = base64Decode(parts.join("")) ?? notAge("a stanza body is not base64");
    stanzas.push({ type: args[0], args: args.slice(1), body });
  }
  const last = lines[index];
  if (index !== lines.length - 1 || !last.startsWith("--- ")) notAge("its header is malformed");
  if (stanzas.length === 0) notAge("it has no recipients");
  const mac = base64Decode(last.slice(4));
  if (mac?.length !== 32) notAge("its header MAC is malformed");
  const covered = text.slice(0, text.length - last.length + 3);
  return {
    stanzas,
    macMatches: (fileKey) => timingSafeEqual(macOf(fileKey, covered), mac!),
    length: macLine + 1,
  };
}

/** Index of the newline that ends the `--- MAC` line, if `bytes` holds it. */
function findMacLineEnd(bytes: Uint8Array): number | undefined {
  const dash = 0x2d;
  for (let i = 0; i + 4 < bytes.length && i < MAX_HEADER_BYTES; i++) {
    if (
      bytes[i] === 0x0a && bytes[i + 1] === dash && bytes[i + 2] === dash &&
      bytes[i + 3] === dash && bytes[i + 4] === 0x20
    ) {
      const end = bytes.indexOf(0x0a, i + 5);
      return end < 0 ? undefined : end;
    }
  }
  return undefined;
}
