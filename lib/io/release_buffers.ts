/**
 * Frees the memory of buffers no longer used. Chunks and blocks live outside
 * V8's heap, and V8 collects them only after each thread has allocated some
 * 64 MiB more of them, so every thread would carry up to 64 MiB of dead
 * buffers. A young-generation collection after each block keeps memory flat
 * at about a millisecond a block. It needs `--v8-flags=--expose-gc`, which
 * deno.json, jobs and the release build pass; without it, this does nothing.
 */
const gc = (globalThis as { gc?: (options: { type: "minor" }) => void }).gc;

export function releaseBuffers(): void {
  gc?.({ type: "minor" });
}
