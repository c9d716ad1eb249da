/**
 * A content's identity for "unchanged": its SHA-256 with the bytes masked
 * that a dump tool writes differently each time for the same data (a
 * creation time, a random key). Without it, --keep N would keep N copies of
 * the same database instead of N versions.
 */
import { createHash, type Hash } from "node:crypto";

/** A stretch of bytes, by offset in the content, that does not count. */
export interface Range {
  offset: number;
  length: number;
}

/**
 * Hashes a stream with the ranges `findVolatile` names in its first
 * `headBytes` bytes set to zero (the rest of the stream counts whole).
 */
export class HeadMaskedHash {
  readonly #hash: Hash = createHash("sha256");
  #head: Uint8Array | undefined = new Uint8Array(0);

  constructor(
    private readonly findVolatile: (head: Uint8Array) => Range[],
    private readonly headBytes: number,
  ) {}

  update(chunk: Uint8Array): void {
    if (!this.#head) {
      this.#hash.update(chunk);
      return;
    }
    const joined = new Uint8Array(this.#head.length + chunk.length);
    joined.set(this.#head);
    joined.set(chunk, this.#head.length);
    if (joined.length < this.headBytes) {
      this.#head = joined;
      return;
    }
    this.#flushHead(joined);
  }

  digest(): string {
    if (this.#head) this.#flushHead(this.#head);
    return this.#hash.digest("hex");
  }

  #flushHead(bytes: Uint8Array): void {
    const masked = bytes.slice();
    for (const { offset, length } of this.findVolatile(masked.subarray(0, this.headBytes))) {
      masked.fill(0, offset, Math.min(offset + length, masked.length));
    }
    this.#hash.update(masked);
    this.#head = undefined;
  }
}

/**
 * Hashes text line by line, with each line `maskLine` rewrites replaced by
 * what it returns (lines it leaves alone return undefined).
 */
export class LineMaskedHash {
  readonly #hash: Hash = createHash("sha256");
  #partial: Uint8Array = new Uint8Array(0);

  constructor(private readonly maskLine: (line: string) => string | undefined) {}

  update(chunk: Uint8Array): void {
    let start = 0;
    let newline = chunk.indexOf(0x0a);
    if (newline === -1) {
      this.#partial = concat(this.#partial, chunk);
      return;
    }
    this.#line(concat(this.#partial, chunk.subarray(0, newline + 1)));
    start = newline + 1;
    while ((newline = chunk.indexOf(0x0a, start)) !== -1) {
      this.#line(chunk.subarray(start, newline + 1));
      start = newline + 1;
    }
    this.#partial = chunk.slice(start);
  }

  digest(): string {
    if (this.#partial.length > 0) this.#line(this.#partial);
    return this.#hash.digest("hex");
  }

  #line(bytes: Uint8Array): void {
    // Only short lines are worth decoding: the ones masked are.
    const masked = bytes.length <= 1024
      ? this.maskLine(new TextDecoder().decode(bytes))
      : undefined;
    this.#hash.update(masked === undefined ? bytes : new TextEncoder().encode(masked));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
