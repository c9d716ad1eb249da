import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashHere, HashThread } from "../../lib/backup/hash_thread.ts";

const sha256 = (...chunks: Uint8Array[]) => {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex");
};

Deno.test("a hash thread hashes shared and own chunks in the order they were added", async () => {
  const shared = new SharedArrayBuffer(1000);
  const view = new Uint8Array(shared);
  view.forEach((_, i) => view[i] = i % 251);
  const own = new TextEncoder().encode("between");
  const thread = new HashThread([new SharedArrayBuffer(10), shared]);
  try {
    await thread.update([view.subarray(10, 500), own]);
    // A chunk of another buffer is copied: changing it after the update changes nothing.
    const later = new Uint8Array([1, 2, 3]);
    const added = thread.update([later, view.subarray(500)]);
    later[0] = 99;
    await added;
    assert.equal(
      await thread.digest(),
      sha256(view.subarray(10, 500), own, new Uint8Array([1, 2, 3]), view.subarray(500)),
    );
  } finally {
    thread.close();
  }
});

Deno.test("hashing here gives the same digest as a hash thread", async () => {
  const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(70_000).fill(7)];
  const here = hashHere();
  await here.update(chunks.slice(0, 2));
  await here.update(chunks.slice(2));
  assert.equal(await here.digest(), sha256(...chunks));
});

Deno.test("a closed hash thread fails what is still waiting and what comes later", async () => {
  const thread = new HashThread([]);
  const waiting = thread.update([new Uint8Array(10)]);
  thread.close();
  await assert.rejects(waiting, /hashing stopped/);
  await assert.rejects(thread.update([new Uint8Array(1)]), /hashing stopped/);
  await assert.rejects(thread.digest(), /hashing stopped/);
});
