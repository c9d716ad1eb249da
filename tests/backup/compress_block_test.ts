import assert from "node:assert/strict";
import zlib from "node:zlib";
import { compressBlock } from "../../lib/backup/compress_block.ts";

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
