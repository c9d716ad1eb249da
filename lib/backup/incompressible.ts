/**
 * A quick guess whether a block of content will compress at all, from a
 * sample of it. Random data, and data compressed already (media, archives,
 * encrypted files), does not: zstd spends most of a full compression and
 * its check only to store such a block as it is. A sample of 64 KiB of a 2
 * MiB block costs a few hundredths of that.
 */
import zlib from "node:zlib";

/** Bytes taken from each stretch of a block. */
const PIECE = 2 * 1024;

/** Stretches a block is sampled in: one for each 64 KiB of a 2 MiB block. */
const PIECES = 32;

/**
 * Less saving than this, and the block is stored as it is. zstd itself
 * leaves literals uncompressed when coding them saves less than 1/64.
 */
const MIN_GAIN = 1 / 64;

/**
 * A quarter of the sample is tried first: most content that compresses
 * shows it there, and text then pays a quarter of the sample's cost.
 */
const EARLY_PIECES = PIECES / 4;
const EARLY_GAIN = 1 / 16;

/** One sample buffer per thread: blocks are tested one at a time. */
const sample = new Uint8Array(PIECES * PIECE);

/**
 * Whether zstd is unlikely to save even 1/64 of `block`: pieces spread over
 * it, compressed together at zstd's level 3, save less than that. Content
 * that compresses only across long distances (a stretch repeated 1 MiB
 * further on) can be missed, and is then stored 1:1; it restores all the same.
 */
export function looksIncompressible(block: Uint8Array): boolean {
  // Short blocks compress quickly anyway; the sample would be most of them.
  if (block.length < 4 * sample.length) return false;
  if (saves(sampleOf(block, EARLY_PIECES), EARLY_GAIN)) return false;
  return !saves(sampleOf(block, PIECES), MIN_GAIN);
}

/** `pieces` pieces of `block`, one at the start of each of as many equal stretches. */
function sampleOf(block: Uint8Array, pieces: number): Uint8Array {
  const stride = Math.floor(block.length / pieces);
  for (let i = 0; i < pieces; i++) {
    sample.set(block.subarray(i * stride, i * stride + PIECE), i * PIECE);
  }
  return sample.subarray(0, pieces * PIECE);
}

/**
 * zstd's level 3, with a window and tables sized for the sample rather than
 * for input of unknown size: each call then allocates a few hundred KiB
 * instead of 3 MiB, which cost ten times as long between reads and writes.
 */
const SAMPLE_PARAMS = {
  [zlib.constants.ZSTD_c_compressionLevel]: 3,
  [zlib.constants.ZSTD_c_windowLog]: 17,
  [zlib.constants.ZSTD_c_hashLog]: 15,
  [zlib.constants.ZSTD_c_chainLog]: 15,
};

function saves(bytes: Uint8Array, gain: number): boolean {
  const compressed = zlib.zstdCompressSync(bytes, { params: SAMPLE_PARAMS });
  return compressed.length <= bytes.length * (1 - gain);
}
