/**
 * Compressing one block of content on its own: a complete gzip member or
 * zstd frame. Concatenated, such blocks are one standard .gz or .zst file
 * (gunzip and zstd -d read every member or frame in turn), so blocks can be
 * compressed in parallel, as pigz does.
 */
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import type { Compression } from "./naming.ts";

/**
 * Content per block: large enough that starting afresh costs well under 1%
 * in size (2 MiB blocks of the bench's text gave zstd output 0.1% smaller
 * than 4 MiB blocks, gzip output 0.1% larger), small enough that the
 * blocks in flight, and each worker's output and check, stay few MiB: a
 * backup of 1 GiB peaked 26 MiB lower than with 4 MiB blocks, no slower.
 */
export const BLOCK_SIZE = 2 * 1024 * 1024;

/**
 * Compresses `block` and decompresses the result again to check it: a
 * backup is only as good as the compressor, and this proves every byte.
 * @throws {Error} when the round trip does not give back `block`
 */
export function compressBlock(
  compression: Exclude<Compression, "none">,
  block: Uint8Array,
): Uint8Array {
  const compressed = compression === "gzip"
    ? zlib.gzipSync(block, { level: 6 })
    : zlib.zstdCompressSync(block, {
      params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 },
    });
  const restored = compression === "gzip"
    ? zlib.gunzipSync(compressed)
    : zlib.zstdDecompressSync(compressed);
  if (Buffer.compare(restored, block) !== 0) {
    throw new Error(`${compression} output did not decompress to the same content`);
  }
  return new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength);
}
