/**
 * Compression on every core: content is cut into blocks, workers compress
 * (and check) them side by side, and the results come back in order. The
 * main thread meanwhile reads, hashes and writes, so those overlap too.
 *
 * zstd blocks that would not compress (incompressible.ts) skip the workers:
 * they are written as raw frames straight from the memory they were read
 * into (raw_zstd_frame.ts). With no compression to wait for, the main thread
 * would then be the limit, so content that starts with such a block is
 * hashed on two further threads (hash_thread.ts).
 *
 * Blocks live in a fixed set of shared-memory slots, and only slot numbers
 * travel between threads. Posting the blocks themselves, even transferred,
 * grew memory by some 40 MiB: every message allocates outside V8's heap
 * and is freed late.
 */
import { createHash } from "node:crypto";
import { BLOCK_SIZE, compressBlock } from "./compress_block.ts";
import type { CompressRequest, CompressResult, SlotMemory } from "./compress_worker.ts";
import { hashHere, HashThread, type StreamHash } from "./hash_thread.ts";
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

/** A hash that hashes nothing, for a stored form whose checksum nobody reads. */
function hashNothing(): StreamHash {
  return { update: () => Promise.resolve(), digest: () => Promise.resolve(""), close() {} };
}

/** SHA-256 of the content and of its stored form (empty when not asked for), lowercase hex. */
export interface Digests {
  content: string;
  stored: string;
}

/**
 * `content` compressed as a series of independent blocks, in order. Each
 * chunk of `output` is valid only until the next one is asked for: its
 * memory is then reused. Consume `output` fully, then call `digests()`.
 */
export function compressInParallel(
  content: AsyncIterable<Uint8Array>,
  compression: Exclude<Compression, "none">,
  workers = navigator.hardwareConcurrency,
  /** False when the stored form is passed on to be sealed: its checksum is then of no use. */
  hashStored = true,
): {
  output: AsyncIterable<Uint8Array>;
  digests: () => Digests;
  /** Whether this thread, not compression, sets the pace: the content starts with a block that does not compress. */
  mainThreadBound: () => boolean;
} {
  let digests: Digests | undefined;
  let startsIncompressible = false;

  async function* output(): AsyncGenerator<Uint8Array> {
    const workerCount = Math.max(1, workers);
    const slots = Array.from(
      { length: workerCount * SLOTS_PER_WORKER },
      (): SlotMemory => ({
        input: new SharedArrayBuffer(BLOCK_SIZE),
        output: new SharedArrayBuffer(OUTPUT_SIZE),
      }),
    );
    // Threads start with the second block, workers with the first that compresses: small
    // content costs no threads, and content that does not compress no workers.
    let pool: WorkerPool | undefined;
    let hashes: { content: StreamHash; stored: StreamHash } | undefined;
    // Blocks in block order; the oldest is always in the slot to be filled next.
    const inFlight: {
      slot: number;
      stored: Promise<Uint8Array[]>;
      contentHashed: Promise<void>;
    }[] = [];
    // Per slot: settles once hashing is done with the slot's memory.
    const hashed = slots.map(() => Promise.resolve());

    const hashThread = () => new HashThread(slots.flatMap((slot) => [slot.input, slot.output]));
    /** The block's stored form, if it is a raw frame: then no worker is needed. */
    const rawForm = (block: Uint8Array): Uint8Array[] | undefined =>
      compression === "zstd" && looksIncompressible(block) ? rawZstdFramePieces(block) : undefined;
    const submit = (slot: number, length: number) => {
      const block = new Uint8Array(slots[slot].input, 0, length);
      const raw = rawForm(block);
      // Decided by the first block, since a hash cannot change threads midway.
      if (!hashes) startsIncompressible = raw !== undefined;
      hashes ??= raw
        ? { content: hashThread(), stored: hashStored ? hashThread() : hashNothing() }
        : { content: hashHere(), stored: hashStored ? hashHere() : hashNothing() };
      let stored: Promise<Uint8Array[]>;
      if (raw) {
        stored = Promise.resolve(raw);
      } else {
        pool ??= new WorkerPool(workerCount, slots);
        stored = pool.compress(slot, length, compression).then((bytes) => [bytes]);
        // Blocks queued behind a failed one are never awaited; their failure is not news.
        stored.catch(() => {});
      }
      // After the worker has the block: hashing here would keep it waiting.
      inFlight.push({ slot, stored, contentHashed: hashes.content.update([block]) });
    };
    const oldest = async () => {
      const { slot, stored, contentHashed } = inFlight.shift()!;
      const pieces = await stored;
      // Here, not when a worker finishes: blocks finish out of order, but are hashed in order.
      const storedHashed = hashes!.stored.update(pieces);
      hashed[slot] = Promise.all([contentHashed, storedHashed]).then(() => {});
      // Awaited only when the slot is filled again, which a failed run never does.
      hashed[slot].catch(() => {});
      return pieces;
    };

    let current = 0;
    let filled = 0;
    try {
      for await (const chunk of content) {
        let offset = 0;
        while (offset < chunk.length) {
          if (filled === BLOCK_SIZE) {
            submit(current, filled);
            current = (current + 1) % slots.length;
            filled = 0;
            if (inFlight.length === slots.length) yield* await oldest();
            await hashed[current];
          }
          const n = Math.min(chunk.length - offset, BLOCK_SIZE - filled);
          new Uint8Array(slots[current].input, filled, n).set(chunk.subarray(offset, offset + n));
          filled += n;
          offset += n;
        }
      }
      if (!hashes) {
        // Empty content still makes a valid .gz or .zst, as gzip and zstd make.
        const block = new Uint8Array(slots[0].input, 0, filled);
        const stored = rawForm(block) ?? [compressBlock(compression, block)];
        digests = { content: sha256Of([block]), stored: hashStored ? sha256Of(stored) : "" };
        yield* stored;
        return;
      }
      submit(current, filled);
      while (inFlight.length > 0) yield* await oldest();
      digests = { content: await hashes.content.digest(), stored: await hashes.stored.digest() };
    } finally {
      pool?.close();
      hashes?.content.close();
      hashes?.stored.close();
    }
  }

  return {
    output: output(),
    digests() {
      if (!digests) throw new Error("compressInParallel: digests() before the output was consumed");
      return digests;
    },
    mainThreadBound: () => startsIncompressible,
  };
}

function sha256Of(chunks: readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex");
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
