/**
 * Compression on every core: content is cut into blocks, workers compress
 * (and check) them side by side, and the results come back in order. The
 * main thread meanwhile reads, hashes and writes, so those overlap too.
 */
import { BLOCK_SIZE, compressBlock } from "./compress_block.ts";
import type { BlockRequest, BlockResult } from "./compress_worker.ts";
import type { Compression } from "./naming.ts";

/** Blocks waiting or being compressed per worker: enough to keep each busy, few enough for flat memory. */
const QUEUE_PER_WORKER = 2;

/** `content` compressed as a series of independent blocks, in order. */
export async function* compressInParallel(
  content: AsyncIterable<Uint8Array>,
  compression: Exclude<Compression, "none">,
  workers = navigator.hardwareConcurrency,
): AsyncGenerator<Uint8Array> {
  const blockList = blocks(content);
  const first = await blockList.next();
  if (first.done) {
    // Empty content still makes a valid .gz or .zst, as gzip and zstd make.
    yield compressBlock(compression, new Uint8Array());
    return;
  }
  const second = await blockList.next();
  if (second.done) {
    // Small content: starting workers would cost more than it saves.
    yield compressBlock(compression, first.value);
    return;
  }
  const pool = new WorkerPool(Math.max(1, workers));
  try {
    const pending: Promise<Uint8Array>[] = [
      pool.compress(compression, first.value),
      pool.compress(compression, second.value),
    ];
    for await (const block of blockList) {
      pending.push(pool.compress(compression, block));
      while (pending.length > pool.size * QUEUE_PER_WORKER) yield await pending.shift()!;
    }
    while (pending.length > 0) yield await pending.shift()!;
  } finally {
    pool.close();
  }
}

/** Regroups chunks of any size into blocks of BLOCK_SIZE (the last may be shorter). */
async function* blocks(content: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let block = new Uint8Array(BLOCK_SIZE);
  let filled = 0;
  for await (const chunk of content) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, BLOCK_SIZE - filled);
      block.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === BLOCK_SIZE) {
        yield block;
        block = new Uint8Array(BLOCK_SIZE);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield block.subarray(0, filled);
}

/** Workers that take blocks in turn. */
class WorkerPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<
    number,
    { resolve: (c: Uint8Array) => void; reject: (e: Error) => void }
  >();
  #nextId = 0;

  constructor(readonly size: number) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./compress_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<BlockResult>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this.#failAll(new Error(`compression worker failed: ${event.message}`));
      };
      return worker;
    });
  }

  compress(compression: Exclude<Compression, "none">, block: Uint8Array): Promise<Uint8Array> {
    const id = this.#nextId++;
    const done = new Promise<Uint8Array>((resolve, reject) =>
      this.#waiting.set(id, { resolve, reject })
    );
    // Blocks queued behind a failed one are never awaited; their failure is not news.
    done.catch(() => {});
    // Transferring the block hands its memory over instead of copying it.
    const whole = block.byteLength === block.buffer.byteLength ? block : block.slice();
    this.#workers[id % this.size].postMessage(
      { id, compression, block: whole } satisfies BlockRequest,
      [whole.buffer as ArrayBuffer],
    );
    return done;
  }

  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#waiting.clear();
  }

  #settle(result: BlockResult): void {
    const waiter = this.#waiting.get(result.id);
    if (!waiter) return;
    this.#waiting.delete(result.id);
    if ("error" in result) waiter.reject(new Error(result.error));
    else waiter.resolve(result.compressed);
  }

  #failAll(error: Error): void {
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}
