import assert from "node:assert/strict";
import zlib from "node:zlib";
import { MAX_RAW_BLOCK, rawZstdFramePieces } from "../../lib/backup/raw_zstd_frame.ts";
import { decompressZstdFrames } from "../../lib/backup/zstd_frames.ts";
import { needs, programs } from "../_requires.ts";
import { run, sameBytes, tempDir } from "../cli/_cli.ts";

const withZstd = await needs("backup/raw_zstd_frame_test.ts: zstd -d", programs("zstd"));

/** Distinct bytes at every offset, so a block out of place shows. */
function content(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 17)) & 0xff;
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

const frameOf = (bytes: Uint8Array) => concat(rawZstdFramePieces(bytes));

/** Empty, one byte, around one raw block, an exact multiple of it, and a whole 4 MiB block. */
const LENGTHS = [
  0,
  1,
  MAX_RAW_BLOCK - 1,
  MAX_RAW_BLOCK,
  MAX_RAW_BLOCK + 1,
  3 * MAX_RAW_BLOCK,
  4 << 20,
];

Deno.test("a raw zstd frame is the frame header, then each block's 3-byte header before its bytes", () => {
  const header = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
  // One empty block, the last: Last_Block 1, Block_Type 0, Block_Size 0.
  assert.deepEqual([...frameOf(new Uint8Array())], [...header, 1, 0, 0]);
  // Block_Size 2 << 3 | Last_Block 1 = 0x11.
  assert.deepEqual([...frameOf(new Uint8Array([7, 8]))], [...header, 0x11, 0, 0, 7, 8]);
  const bytes = content(MAX_RAW_BLOCK + 1);
  const pieces = rawZstdFramePieces(bytes);
  assert.deepEqual(pieces.map((p) => p.length), [9, MAX_RAW_BLOCK, 3, 1]);
  // A full block, not the last: 128 KiB << 3 = 0x100000; then one byte, the last.
  assert.deepEqual([...pieces[0].subarray(6)], [0x00, 0x00, 0x10]);
  assert.deepEqual([...pieces[2]], [0x09, 0, 0]);
});

Deno.test("a raw zstd frame's content is the content's own memory, not a copy", () => {
  const bytes = content(3 * MAX_RAW_BLOCK);
  const stretches = rawZstdFramePieces(bytes).filter((_, i) => i % 2 === 1);
  assert.deepEqual(stretches.map((s) => [s.buffer === bytes.buffer, s.byteOffset]), [
    [true, 0],
    [true, MAX_RAW_BLOCK],
    [true, 2 * MAX_RAW_BLOCK],
  ]);
});

Deno.test("an exact multiple of the block size ends with a full last block, not an empty one", () => {
  const pieces = rawZstdFramePieces(content(2 * MAX_RAW_BLOCK));
  assert.deepEqual(pieces.map((p) => p.length), [9, MAX_RAW_BLOCK, 3, MAX_RAW_BLOCK]);
  assert.equal(pieces[0][6] & 1, 0, "the first block is not the last");
  assert.equal(pieces[2][0] & 1, 1, "the second block is the last");
});

Deno.test("raw zstd frames decompress to their content with node:zlib and tinybackup's frame reader", async () => {
  for (const length of LENGTHS) {
    const bytes = content(length);
    assert.ok(sameBytes(zlib.zstdDecompressSync(frameOf(bytes)), bytes), `${length} bytes`);
  }
  async function* frames() {
    for (const length of LENGTHS) yield frameOf(content(length));
  }
  const parts: Uint8Array[] = [];
  for await (const part of decompressZstdFrames(frames())) parts.push(part);
  assert.equal(parts.length, LENGTHS.length);
  for (const [i, part] of parts.entries()) assert.ok(sameBytes(part, content(LENGTHS[i])));
});

withZstd.test("zstd -d reads raw zstd frames, alone and one after another as in a backup", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/frames.zst`;
  await Deno.writeFile(file, concat(LENGTHS.map((n) => frameOf(content(n)))));
  assert.ok(sameBytes(await run("zstd", ["-d", "-c", "-q", file]), concat(LENGTHS.map(content))));
  for (const length of LENGTHS) {
    await Deno.writeFile(file, frameOf(content(length)));
    assert.ok(sameBytes(await run("zstd", ["-d", "-c", "-q", file]), content(length)), `${length}`);
  }
});
