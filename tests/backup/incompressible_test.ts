import assert from "node:assert/strict";
import zlib from "node:zlib";
import { looksIncompressible } from "../../lib/backup/incompressible.ts";
import { textBytes } from "../cli/_cli.ts";

const MiB = 1024 * 1024;

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  // getRandomValues fills at most 64 KiB at a time.
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

/** `length` bytes of text, repeated as needed. */
function text(length: number): Uint8Array {
  const lines = textBytes(20_000);
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += lines.length) bytes.set(lines.subarray(0, length - at), at);
  return bytes;
}

Deno.test("random bytes and compressed data look incompressible", () => {
  assert.equal(looksIncompressible(randomBytes(4 * MiB)), true);
  assert.equal(looksIncompressible(randomBytes(MiB)), true);
  const gzipped = zlib.gzipSync(randomBytes(MiB).map((b) => b & 0x3f));
  assert.equal(looksIncompressible(gzipped.subarray(0, 4 * MiB)), true);
});

Deno.test("text, zeros and bytes of little variety do not", () => {
  assert.equal(looksIncompressible(text(4 * MiB)), false);
  assert.equal(looksIncompressible(new Uint8Array(4 * MiB)), false);
  // Six bits of randomness in each byte: only entropy coding shrinks it, by a quarter.
  assert.equal(looksIncompressible(randomBytes(4 * MiB).map((b) => b & 0x3f)), false);
});

Deno.test("a block that is random except for a stretch of text does not", () => {
  for (const at of [0, MiB, 3 * MiB]) {
    const block = randomBytes(4 * MiB);
    block.set(text(MiB), at);
    assert.equal(looksIncompressible(block), false, `text at ${at}`);
  }
});

Deno.test("blocks too short for a sample are left to the compressor", () => {
  assert.equal(looksIncompressible(randomBytes(64 * 1024)), false);
  assert.equal(looksIncompressible(new Uint8Array()), false);
});
