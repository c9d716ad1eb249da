/**
 * The single pass over a source: hash the content and compress it while the
 * bytes stream to the store. Compression runs in workers on every core
 * (parallel_compress.ts), and each compressed block is decompressed again
 * there to prove the stored bytes restore to exactly what was read. Memory
 * holds a few blocks at most, whatever the size of the source. Encrypted,
 * the compressed stream is sealed with age as it goes (lib/age/), on a
 * thread of its own where this one sets the pace, and the stored size and
 * checksum are those of the age file.
 */
import { createHash } from "node:crypto";
import type { Recipients } from "../age/file_key.ts";
import { ageEncryption } from "../age/encryption.ts";
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
  /** The age file key, when encrypted: it seals the metadata's private part too. */
  fileKey?: Uint8Array;
}

/**
 * Compresses `content`. Consume `output` fully, then call `summary()`.
 * @param onProgress called with the number of content bytes read so far
 */
export function encode(
  content: AsyncIterable<Uint8Array>,
  compression: Compression,
  onProgress?: (bytesRead: number) => void,
  recipients?: Recipients,
): { output: AsyncIterable<Uint8Array>; summary: () => Encoded } {
  let size = 0;
  let storedSize = 0;
  let digests: (() => Digests) | undefined;
  // Without compression, this thread does all the work but sealing.
  let mainThreadBound = () => true;

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
    // Sealed, the stored bytes are the age file's, hashed below.
    const pass = compressInParallel(counted(), compression, undefined, !recipients);
    mainThreadBound = pass.mainThreadBound;
    for await (const chunk of pass.output) {
      storedSize += chunk.length;
      yield chunk;
    }
    digests = pass.digests;
  }

  const plain = compression === "none" ? uncompressed() : compressed(compression);
  if (!recipients) {
    return {
      output: plain,
      summary() {
        if (!digests) throw new Error("encode: summary() before the output was consumed");
        const { content, stored } = digests();
        return { sha256: content, size, storedSize, storedSha256: stored };
      },
    };
  }
  const encryption = ageEncryption(recipients);
  const sealing = encryption.encrypt(plain, () => mainThreadBound());
  let sealedSize = 0;
  async function* sealed() {
    for await (const chunk of sealing.output) {
      sealedSize += chunk.length;
      yield chunk;
    }
  }
  return {
    output: sealed(),
    summary() {
      if (!digests) throw new Error("encode: summary() before the output was consumed");
      return {
        sha256: digests().content,
        size,
        storedSize: sealedSize,
        storedSha256: sealing.sha256(),
        fileKey: encryption.fileKey,
      };
    },
  };
}
