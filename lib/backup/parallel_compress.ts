/**
 * Compression on every core: content is cut into blocks, workers compress
 * (and check) them side by side, and the results come back in order. The
 * main thread meanwhile reads, hashes and writes, so those overlap too.
 *
 * zstd blocks that would not compress (incompressible.ts) skip the workers:
 * they are written as raw frames straight from the memory they were read
 * into (raw_zstd_frame.ts).
 *
 * Blocks live in a fixed set of shared-memory slots, and only slot numbers
 * travel between threads. Posting the blocks themselves, even transferred,
 * grew memory by some 40 MiB: every message allocates outside V8's heap
 * and is freed late.
 */
import { BLOCK_SIZE, compressBlock } from "./compress_block.ts";
import type { CompressRequest, CompressResult, SlotMemory } from "./compress_worker.ts";
import { looksIncompressible } from "./incompressible.ts";
import type { Compression } from "./naming.ts";
import { rawZstdFramePieces } from "./raw_zstd_frame.ts";

/** Blocks waiting or being compressed per worker: enough to keep each busy, few enough for flat memory. */
const SLOTS_PER_WORKER = 2;

/**
 * Room for a block's compressed form: deflate and zstd add at most a few
 * bytes per 16 KiB to content they cannot shrink, far below this margin.
 */
const OUTPUT_SIZE = BLOCK_SIZE + BLOCK_SIZE / 64;

/**
 * `content` compressed as a series of independent blocks, in order. Each
 * yielded chunk is valid only until the next one is asked for: its memory
 * is then reused.
 */
export async function* compressInParallel(
  content: AsyncIterable<Uint8Array>,
  compression: Exclude<Compression, "none">,
  workers = navigator.hardwareConcurrency,
): AsyncGenerator<Uint8Array> {
  const workerCount = Math.max(1, workers);
  const slots = Array.from(
    { length: workerCount * SLOTS_PER_WORKER },
    (): SlotMemory => ({
      input: new SharedArrayBuffer(BLOCK_SIZE),
      output: new SharedArrayBuffer(OUTPUT_SIZE),
    }),
  );
  // Workers start with the first block that compresses, and not for small content.
  let pool: WorkerPool | undefined;
  // Stored forms in slot order; the oldest is always the slot to be filled next.
  const inFlight: Promise<Uint8Array[]>[] = [];
  /** The block's stored form, if it is a raw frame: then no worker is needed. */
  const rawForm = (block: Uint8Array): Uint8Array[] | undefined =>
    compression === "zstd" && looksIncompressible(block) ? rawZstdFramePieces(block) : undefined;
  const submit = (slot: number, length: number) => {
    const raw = rawForm(new Uint8Array(slots[slot].input, 0, length));
    if (raw) {
      inFlight.push(Promise.resolve(raw));
    } else {
      pool ??= new WorkerPool(workerCount, slots);
      const stored = pool.compress(slot, length, compression).then((bytes) => [bytes]);
      // Blocks queued behind a failed one are never awaited; their failure is not news.
      stored.catch(() => {});
      inFlight.push(stored);
    }
  };
  let blocks = 0;
  let current = 0;
  let filled = 0;
  try {
    for await (const chunk of content) {
      let offset = 0;
      while (offset < chunk.length) {
        if (filled === BLOCK_SIZE) {
          submit(current, filled);
          blocks++;
          current = (current + 1) % slots.length;
          filled = 0;
          if (inFlight.length === slots.length) yield* await inFlight.shift()!;
        }
        const n = Math.min(chunk.length - offset, BLOCK_SIZE - filled);
        new Uint8Array(slots[current].input, filled, n).set(chunk.subarray(offset, offset + n));
        filled += n;
        offset += n;
      }
    }
    if (blocks === 0) {
      // Empty content still makes a valid .gz or .zst, as gzip and zstd make.
      const block = new Uint8Array(slots[0].input, 0, filled);
      yield* rawForm(block) ?? [compressBlock(compression, block)];
      return;
    }
    submit(current, filled);
    while (inFlight.length > 0) yield* await inFlight.shift()!;
  } finally {
    pool?.close();
  }
}

/** Workers that take slots in turn: slot k always goes to worker k % size. */
class WorkerPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<
    number,
    { resolve: (c: Uint8Array) => void; reject: (e: Error) => void }
  >();
  /** Set once a worker fails: later blocks fail at once instead of waiting forever. */
  #failure: Error | undefined;

  constructor(readonly size: number, private readonly slots: SlotMemory[]) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./compress_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<CompressResult>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this.#failAll(new Error(`compression worker failed: ${event.message}`));
      };
      // Shared memory is shared, not copied, when posted.
      worker.postMessage({ slots } satisfies CompressRequest);
      return worker;
    });
  }

  /** Compresses the first `length` bytes of slot `slot`'s input. */
  compress(
    slot: number,
    length: number,
    compression: Exclude<Compression, "none">,
  ): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const done = new Promise<Uint8Array>((resolve, reject) =>
      this.#waiting.set(slot, { resolve, reject })
    );
    // Blocks queued behind a failed one are never awaited; their failure is not news.
    done.catch(() => {});
    this.#workers[slot % this.size].postMessage(
      { slot, length, compression } satisfies CompressRequest,
    );
    return done;
  }

  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#waiting.clear();
  }

  #settle(result: CompressResult): void {
    const waiter = this.#waiting.get(result.slot);
    if (!waiter) return;
    this.#waiting.delete(result.slot);
    if ("error" in result) waiter.reject(new Error(result.error));
    else waiter.resolve(new Uint8Array(this.slots[result.slot].output, 0, result.length));
  }

  #failAll(error: Error): void {
    this.#failure = error;
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}
