import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { BLOCK_SIZE } from "../../lib/backup/compress_block.ts";
import { compressInParallel } from "../../lib/backup/parallel_compress.ts";
import { decompressZstdFrames } from "../../lib/backup/zstd_frames.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/** The whole output, and the digests once it is consumed. */
async function compressAll(
  content: Uint8Array,
  compression: "gzip" | "zstd",
  workers?: number,
  chunkSize = 777_777,
) {
  async function* chunks() {
    for (let offset = 0; offset < content.length; offset += chunkSize) {
      yield content.slice(offset, offset + chunkSize);
    }
  }
  const pass = compressInParallel(chunks(), compression, workers);
  const parts: Uint8Array[] = [];
  // A chunk is only valid until the next is asked for, so each is copied.
  for await (const chunk of pass.output) parts.push(chunk.slice());
  return { stored: concat(parts), digests: pass.digests() };
}

async function zstdContent(stored: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  async function* once() {
    yield stored;
  }
  for await (const part of decompressZstdFrames(once())) parts.push(part);
  return concat(parts);
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

/** Distinct content per block, so any reordering shows. */
function patterned(length: number): Uint8Array {
  const content = new Uint8Array(length);
  for (let i = 0; i < length; i++) content[i] = (i * 7 + (i >> 20)) & 0xff;
  return content;
}

Deno.test("compressInParallel keeps blocks in order, whatever the chunk sizes and worker count", async () => {
  const content = patterned(BLOCK_SIZE * 3 + 12_345);
  for (const workers of [1, 3]) {
    for (const compression of ["gzip", "zstd"] as const) {
      const { stored, digests } = await compressAll(content, compression, workers);
      const restored = compression === "gzip"
        ? new Uint8Array(zlib.gunzipSync(stored))
        : await zstdContent(stored);
      assert.deepEqual(restored, content, `${compression} with ${workers} worker(s)`);
      assert.deepEqual(digests, { content: sha256(content), stored: sha256(stored) });
    }
  }
});

Deno.test("compressInParallel stores zstd blocks that do not compress as raw frames, and hashes them", async () => {
  // Random, then text, then random again: raw frames and compressed ones in one file.
  const content = concat([
    randomBytes(BLOCK_SIZE + 100),
    patterned(2 * BLOCK_SIZE - 100),
    randomBytes(BLOCK_SIZE / 2),
  ]);
  for (const chunkSize of [777_777, BLOCK_SIZE]) {
    const { stored, digests } = await compressAll(content, "zstd", 2, chunkSize);
    assert.deepEqual(await zstdContent(stored), content);
    assert.deepEqual(digests, { content: sha256(content), stored: sha256(stored) });
    // Raw blocks cost 3 bytes per 128 KiB; the text in between shrinks to almost nothing.
    assert.ok(stored.length < 2 * BLOCK_SIZE, `${stored.length} bytes stored`);
    assert.ok(stored.length > 1.5 * BLOCK_SIZE, `${stored.length} bytes stored`);
  }
});

Deno.test("compressInParallel of a single block, random or text or empty, restores and hashes it", async () => {
  for (const content of [randomBytes(BLOCK_SIZE), patterned(1000), new Uint8Array()]) {
    const { stored, digests } = await compressAll(content, "zstd");
    assert.deepEqual(await zstdContent(stored), content);
    assert.deepEqual(digests, { content: sha256(content), stored: sha256(stored) });
  }
});

Deno.test("compressInParallel passes on a failing source and stops its threads", async () => {
  async function* failing(block: Uint8Array) {
    yield block;
    throw new Error("disk on fire");
  }
  for (const block of [patterned(BLOCK_SIZE * 2 + 1), randomBytes(BLOCK_SIZE * 2 + 1)]) {
    const pass = compressInParallel(failing(block), "zstd", 2);
    await assert.rejects(async () => {
      for await (const _ of pass.output);
    }, /disk on fire/);
    assert.throws(() => pass.digests(), /before the output was consumed/);
  }
});
