/**
 * Decompression as a stream, for restore and verify. Backups are written as
 * independent blocks (compress_block.ts); Node's zlib reads every gzip member
 * and zstd frame in turn, as gunzip and zstd -d do.
 */
import { type Duplex, pipeline, Readable } from "node:stream";
import zlib from "node:zlib";
import type { Compression } from "./naming.ts";

/** Output chunk size; zlib's 16 KiB default means many small writes. */
const OUTPUT_CHUNK = 256 * 1024;

function decompressor(compression: Compression): Duplex | undefined {
  switch (compression) {
    case "gzip":
      return zlib.createGunzip({ chunkSize: OUTPUT_CHUNK });
    case "zstd":
      return zlib.createZstdDecompress({ chunkSize: OUTPUT_CHUNK });
    case "none":
      return undefined;
  }
}

/** Decompresses a stored backup's chunks back into the original content. */
export function decompress(
  chunks: AsyncIterable<Uint8Array>,
  compression: Compression,
): AsyncIterable<Uint8Array> {
  const transform = decompressor(compression);
  if (!transform) return chunks;
  // pipeline() passes an error on either side to the other, so a failing
  // source fails the consumer instead of leaving it waiting.
  return pipeline(Readable.from(chunks), transform, () => {});
}
