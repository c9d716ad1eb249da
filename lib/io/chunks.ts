/**
 * Reading and writing files in large chunks. One MiB per read keeps the
 * per-chunk overhead of hashing, compressing and writing small next to the work.
 */

/** Bytes asked for per read. */
export const CHUNK_SIZE = 1024 * 1024;

/** Anything read like a file: a file, standard input. */
export interface Readable {
  read(buffer: Uint8Array): Promise<number | null>;
}

/**
 * Yields the rest of `reader` in chunks. Each chunk is a fresh buffer, so a
 * consumer may keep it (compressors do, until they have used it).
 */
export async function* readChunks(reader: Readable): AsyncGenerator<Uint8Array> {
  while (true) {
    const buffer = new Uint8Array(CHUNK_SIZE);
    const n = await reader.read(buffer);
    if (n === null) return;
    yield buffer.subarray(0, n);
  }
}

/** Anything written like a file: a file, standard output. */
export interface Writable {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes all of `bytes`; a single write may write only part. */
export async function writeAll(file: Writable, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}
