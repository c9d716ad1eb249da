/**
 * zstd frames that hold content as it is, in raw blocks (RFC 8878, 3.1.1),
 * for content that does not compress. Such a frame is the content itself
 * with a few header bytes between stretches of it, so it is written straight
 * from the content's memory: no compressor runs, nothing is copied, and no
 * decompression is needed to prove it restores. `zstd -d` reads these frames
 * like any other; zstd itself writes raw blocks for data it cannot shrink.
 */

/**
 * Frame_Magic_Number, then a Frame_Header_Descriptor of 0 (no content size,
 * checksum or dictionary; a window follows) and a Window_Descriptor of 128
 * KiB (exponent 7, mantissa 0), the least that holds a full raw block.
 * zstd's frames from node:zlib leave out the content size too.
 */
const FRAME_HEADER = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];

/** Block_Maximum_Size: a block holds at most 128 KiB (and no more than the window). */
export const MAX_RAW_BLOCK = 128 * 1024;

/**
 * The frame holding `content`, as pieces to be written in order: fresh
 * arrays for the headers, and between them stretches of `content` itself
 * (subarrays, not copies), each up to MAX_RAW_BLOCK long.
 */
export function rawZstdFramePieces(content: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let header = [...FRAME_HEADER];
  let offset = 0;
  do {
    const length = Math.min(MAX_RAW_BLOCK, content.length - offset);
    const last = offset + length === content.length ? 1 : 0;
    // Block_Header: Last_Block bit, Block_Type 0 (raw), Block_Size; 3 bytes, little-endian.
    const blockHeader = (length << 3) | last;
    header.push(blockHeader & 0xff, (blockHeader >> 8) & 0xff, (blockHeader >> 16) & 0xff);
    // The frame header shares its array with the first block's header.
    pieces.push(new Uint8Array(header));
    // Empty content still needs one (empty, last) block.
    if (length > 0) pieces.push(content.subarray(offset, offset + length));
    header = [];
    offset += length;
  } while (offset < content.length);
  return pieces;
}
