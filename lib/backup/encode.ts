/**
 * The single pass over a source: hash the content, compress it, and check
 * that what comes out decompresses to the same content, all while the bytes
 * stream to the store. Nothing is held in memory beyond a few chunks.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { RunError } from "../errors.ts";
import { compressor, decompressor, through } from "./compression.ts";
import type { Compression } from "./naming.ts";

/** What the pass learned, available once its output has been consumed. */
export interface Encoded {
  /** SHA-256 of the original content, lowercase hex. */
  sha256: string;
  /** Bytes of original content. */
  size: number;
  /** Bytes of output. */
  storedSize: number;
}

/**
 * Compresses `content`. Consume `output` fully, then call `summary()`.
 * The output throws at its end if it does not decompress to `content`.
 * @param onProgress called with the number of content bytes read so far
 */
export function encode(
  content: AsyncIterable<Uint8Array>,
  compression: Compression,
  onProgress?: (bytesRead: number) => void,
): { output: AsyncIterable<Uint8Array>; summary: () => Encoded } {
  const contentHash = createHash("sha256");
  let size = 0;
  let storedSize = 0;
  let sha256: string | undefined;

  async function* hashed() {
    for await (const chunk of content) {
      contentHash.update(chunk);
      size += chunk.length;
      onProgress?.(size);
      yield chunk;
    }
  }

  async function* checked(compressed: AsyncIterable<Uint8Array>) {
    // Decompressing as we go costs the other core, and proves the bytes we
    // store restore to exactly what we read.
    const check = compression === "none" ? undefined : new HashingDecompressor(compression);
    for await (const chunk of compressed) {
      storedSize += chunk.length;
      await check?.write(chunk);
      yield chunk;
    }
    sha256 = contentHash.digest("hex");
    if (check && (await check.end()) !== sha256) {
      throw new RunError("compressed data did not decompress to the source's content");
    }
  }

  return {
    output: checked(through(hashed(), compressor(compression))),
    summary() {
      if (sha256 === undefined) throw new Error("encode: summary() before the output was consumed");
      return { sha256, size, storedSize };
    },
  };
}

/** Decompresses what is written to it and hashes the result. */
class HashingDecompressor {
  readonly #stream;
  readonly #hash = createHash("sha256");
  readonly #done: Promise<void>;

  constructor(compression: Compression) {
    this.#stream = decompressor(compression)!;
    this.#stream.on("data", (chunk: Uint8Array) => this.#hash.update(chunk));
    this.#done = finished(this.#stream);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.#stream.write(chunk)) await once(this.#stream, "drain");
  }

  /** Ends the input; resolves to the SHA-256 of everything decompressed. */
  async end(): Promise<string> {
    this.#stream.end();
    await this.#done;
    return this.#hash.digest("hex");
  }
}
