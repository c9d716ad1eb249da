/**
 * The single pass over a source: hash the content and compress it while the
 * bytes stream to the store. Compression runs in workers on every core
 * (parallel_compress.ts), and each block is decompressed again there to
 * prove the stored bytes restore to exactly what was read. Memory holds a
 * few blocks at most, whatever the size of the source.
 */
import { createHash } from "node:crypto";
import type { Compression } from "./naming.ts";
import { compressInParallel } from "./parallel_compress.ts";

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
  const contentHash = createHash("sha256");
  const storedHash = compression === "none" ? undefined : createHash("sha256");
  let size = 0;
  let storedSize = 0;
  let sha256: string | undefined;
  let storedSha256: string | undefined;

  async function* hashed() {
    for await (const chunk of content) {
      contentHash.update(chunk);
      size += chunk.length;
      onProgress?.(size);
      yield chunk;
    }
  }

  async function* counted(stored: AsyncIterable<Uint8Array>) {
    for await (const chunk of stored) {
      storedSize += chunk.length;
      storedHash?.update(chunk);
      yield chunk;
    }
    sha256 = contentHash.digest("hex");
    // Uncompressed, the stored bytes are the content.
    storedSha256 = storedHash?.digest("hex") ?? sha256;
  }

  const stored = compression === "none" ? hashed() : compressInParallel(hashed(), compression);
  return {
    output: counted(stored),
    summary() {
      if (sha256 === undefined || storedSha256 === undefined) {
        throw new Error("encode: summary() before the output was consumed");
      }
      return { sha256, size, storedSize, storedSha256 };
    },
  };
}
