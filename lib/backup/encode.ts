/**
 * The single pass over a source: hash the content and compress it while the
 * bytes stream to the store. Compression runs in workers on every core
 * (parallel_compress.ts), and each compressed block is decompressed again
 * there to prove the stored bytes restore to exactly what was read. Memory
 * holds a few blocks at most, whatever the size of the source.
 */
import { createHash } from "node:crypto";
import type { Compression } from "./naming.ts";
import { compressInParallel, type Digests } from "./parallel_compress.ts";

/** What the pass learned, available once its output has been consumed. */
export interface Encoded {
  /** SHA-256 of the original content, lowercase hex. */
  sha256: string;
  /** Bytes of original content. */
  size: number;
  /** Bytes of output. */
  storedSize: number;
  /** SHA-256 of the output, lowercase hex. */
  storedSha256: string;
}

/**
 * Compresses `content`. Consume `output` fully, then call `summary()`.
 * @param onProgress called with the number of content bytes read so far
 */
export function encode(
  content: AsyncIterable<Uint8Array>,
  compression: Compression,
  onProgress?: (bytesRead: number) => void,
): { output: AsyncIterable<Uint8Array>; summary: () => Encoded } {
  let size = 0;
  let storedSize = 0;
  let digests: (() => Digests) | undefined;

  async function* counted() {
    // The source's read loop turns the event loop now and then (see chunks.ts).
    for await (const chunk of content) {
      size += chunk.length;
      onProgress?.(size);
      yield chunk;
    }
  }

  async function* uncompressed() {
    const hash = createHash("sha256");
    for await (const chunk of counted()) {
      hash.update(chunk);
      storedSize += chunk.length;
      yield chunk;
    }
    // Uncompressed, the stored bytes are the content.
    const sha256 = hash.digest("hex");
    digests = () => ({ content: sha256, stored: sha256 });
  }

  async function* compressed(compression: Exclude<Compression, "none">) {
    const pass = compressInParallel(counted(), compression);
    for await (const chunk of pass.output) {
      storedSize += chunk.length;
      yield chunk;
    }
    digests = pass.digests;
  }

  return {
    output: compression === "none" ? uncompressed() : compressed(compression),
    summary() {
      if (!digests) throw new Error("encode: summary() before the output was consumed");
      const { content, stored } = digests();
      return { sha256: content, size, storedSize, storedSha256: stored };
    },
  };
}
