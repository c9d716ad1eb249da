/**
 * Decompression as a stream, for restore and verify. Backups are written as
 * independent blocks (compress_block.ts); Node's zlib reads every gzip member
 * in turn, as gunzip does, and zstd_frames.ts every zstd frame, as zstd -d does.
 */
import { pipeline, Readable } from "node:stream";
import zlib from "node:zlib";
import type { Compression } from "./naming.ts";
import { decompressZstdFrames } from "./zstd_frames.ts";

/** Output chunk size; zlib's 16 KiB default means many small writes. */
const OUTPUT_CHUNK = 256 * 1024;

/** Decompresses a stored backup's chunks back into the original content. */
export function decompress(
  chunks: AsyncIterable<Uint8Array>,
  compression: Compression,
): AsyncIterable<Uint8Array> {
  switch (compression) {
    case "gzip":
      // pipeline() passes an error on either side to the other, so a failing
      // source fails the consumer instead of leaving it waiting.
      return pipeline(
        Readable.from(chunks),
        zlib.createGunzip({ chunkSize: OUTPUT_CHUNK }),
        () => {},
      );
    case "zstd":
      return decompressZstdFrames(chunks);
    case "none":
      return chunks;
  }
}
