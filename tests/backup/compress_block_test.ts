import assert from "node:assert/strict";
import zlib from "node:zlib";
import { BLOCK_SIZE, compressBlock } from "../../lib/backup/compress_block.ts";
import { compressInParallel } from "../../lib/backup/parallel_compress.ts";

const text = (n: number, seed = 0) =>
  new TextEncoder().encode(Array.from({ length: n }, (_, i) => `row ${i} seed ${seed}\n`).join(""));

Deno.test("compressBlock makes a complete gzip member and a complete zstd frame", () => {
  const block = text(10_000);
  assert.deepEqual(new Uint8Array(zlib.gunzipSync(compressBlock("gzip", block))), block);
  assert.deepEqual(new Uint8Array(zlib.zstdDecompressSync(compressBlock("zstd", block))), block);
});

Deno.test("compressBlock of nothing is still a valid, empty .gz and .zst", () => {
  assert.equal(zlib.gunzipSync(compressBlock("gzip", new Uint8Array())).length, 0);
  assert.equal(zlib.zstdDecompressSync(compressBlock("zstd", new Uint8Array())).length, 0);
});

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  // A chunk is only valid until the next is asked for, so each is copied.
  for await (const chunk of chunks) parts.push(chunk.slice());
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

Deno.test("compressInParallel keeps blocks in order, whatever the chunk sizes and worker count", async () => {
  // Distinct content per block, in odd-sized chunks, so any reordering shows.
  const content = new Uint8Array(BLOCK_SIZE * 3 + 12_345);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7 + (i >> 20)) & 0xff;
  async function* chunks() {
    for (let offset = 0; offset < content.length; offset += 777_777) {
      yield content.slice(offset, offset + 777_777);
    }
  }
  for (const workers of [1, 3]) {
    for (const compression of ["gzip", "zstd"] as const) {
      const stored = await collect(compressInParallel(chunks(), compression, workers));
      const restored = compression === "gzip"
        ? zlib.gunzipSync(stored)
        : zlib.zstdDecompressSync(stored);
      assert.deepEqual(
        new Uint8Array(restored),
        content,
        `${compression} with ${workers} worker(s)`,
      );
    }
  }
});

Deno.test("compressInParallel passes on a failing source and stops its workers", async () => {
  async function* failing() {
    yield new Uint8Array(BLOCK_SIZE * 2 + 1);
    throw new Error("disk on fire");
  }
  await assert.rejects(() => collect(compressInParallel(failing(), "zstd", 2)), /disk on fire/);
});
