/**
 * Compression and decompression as streams, with Node's zlib: gzip level 6
 * and zstd level 3, the defaults of the gzip and zstd commands, so backups
 * are as small as what people get from the tools they replace.
 */
import { type Duplex, pipeline, Readable } from "node:stream";
import zlib from "node:zlib";
import type { Compression } from "./naming.ts";

/** Output chunk size; zlib's 16 KiB default means many small writes. */
const OUTPUT_CHUNK = 256 * 1024;

/** A stream that compresses with `compression`, or undefined for none. */
export function compressor(compression: Compression): Duplex | undefined {
  switch (compression) {
    case "gzip":
      return zlib.createGzip({ level: 6, chunkSize: OUTPUT_CHUNK });
    case "zstd":
      return zlib.createZstdCompress({
        chunkSize: OUTPUT_CHUNK,
        params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 },
      });
    case "none":
      return undefined;
  }
}

/** A stream that undoes `compression`, or undefined for none. */
export function decompressor(compression: Compression): Duplex | undefined {
  switch (compression) {
    case "gzip":
      return zlib.createGunzip({ chunkSize: OUTPUT_CHUNK });
    case "zstd":
      return zlib.createZstdDecompress({ chunkSize: OUTPUT_CHUNK });
    case "none":
      return undefined;
  }
}

/** `chunks` run through `transform`, if there is one. */
export function through(
  chunks: AsyncIterable<Uint8Array>,
  transform: Duplex | undefined,
): AsyncIterable<Uint8Array> {
  if (!transform) return chunks;
  // pipeline() passes an error on either side to the other, so a failing
  // source fails the consumer instead of leaving it waiting.
  return pipeline(Readable.from(chunks), transform, () => {});
}

/** Decompresses a stored backup's chunks back into the original content. */
export function decompress(
  chunks: AsyncIterable<Uint8Array>,
  compression: Compression,
): AsyncIterable<Uint8Array> {
  return through(chunks, decompressor(compression));
}
