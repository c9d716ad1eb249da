/**
 * zstd decompression one frame at a time. Deno's streaming zstd decompressor
 * (node:zlib createZstdDecompress, Deno 2.9) throws damage it finds at the
 * end of a frame, such as a bad checksum, as an uncaught exception instead of
 * a stream error: the whole process dies. Its one-shot decompressor throws
 * where a caller can catch, but reads only the first frame of several. So
 * frames are cut out here (RFC 8878 gives their lengths) and decompressed
 * one by one; tinybackup's own frames each hold one block of content.
 */
import zlib from "node:zlib";
import { BLOCK_SIZE } from "./compress_block.ts";

const FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames use magic numbers 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Far more than a frame of one block needs: a larger one is damage, not a reason to buffer. */
const MAX_FRAME = 2 * BLOCK_SIZE;

/** The decompressed content of the zstd frames in `chunks`, in order. */
export async function* decompressZstdFrames(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(1024 * 1024);
  let length = 0;
  for await (const chunk of chunks) {
    if (length + chunk.length > buffer.length) {
      const grown = new Uint8Array(Math.max(2 * buffer.length, length + chunk.length));
      grown.set(buffer.subarray(0, length));
      buffer = grown;
    }
    buffer.set(chunk, length);
    length += chunk.length;
    let start = 0;
    while (true) {
      const size = frameSize(buffer.subarray(start, length));
      if (size === undefined) break;
      const frame = buffer.subarray(start, start + size);
      start += size;
      if (!isSkippable(frame)) yield zlib.zstdDecompressSync(frame);
    }
    buffer.copyWithin(0, start, length);
    length -= start;
    if (length > MAX_FRAME) throw new Error("a zstd frame is larger than any tinybackup writes");
  }
  if (length > 0) throw new Error("the last zstd frame is cut short");
}

function isSkippable(bytes: Uint8Array): boolean {
  return ((readUint32(bytes, 0) & 0xfffffff0) >>> 0) === SKIPPABLE_MAGIC;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0;
}

/**
 * The length of the frame at the start of `bytes`, or undefined while
 * `bytes` does not hold all of it yet.
 * @throws {Error} when `bytes` does not start with a frame
 */
function frameSize(bytes: Uint8Array): number | undefined {
  if (bytes.length < 8) return undefined;
  if (isSkippable(bytes)) {
    const size = 8 + readUint32(bytes, 4);
    return size <= bytes.length ? size : undefined;
  }
  if (readUint32(bytes, 0) !== FRAME_MAGIC) throw new Error("not a zstd frame");
  const descriptor = bytes[4];
  const singleSegment = (descriptor >> 5) & 1;
  const header = 1 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3] +
    [singleSegment, 2, 4, 8][descriptor >> 6];
  let at = 4 + header;
  while (true) {
    if (at + 3 > bytes.length) return undefined;
    const block = bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16;
    const type = (block >> 1) & 3;
    if (type === 3) throw new Error("a zstd block of the reserved type");
    at += 3 + (type === 1 ? 1 : block >>> 3);
    if (block & 1) break;
  }
  at += (descriptor >> 2) & 1 ? 4 : 0;
  return at <= bytes.length ? at : undefined;
}
