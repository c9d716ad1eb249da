/**
 * SHA-256 of a stream of chunks, on a thread of its own or on this one. On
 * content that does not compress, hashing it and its stored form took half
 * of the main thread's time, which also reads and writes every byte: there,
 * two threads hash the two side by side while the main thread goes on.
 * Where the main thread mostly waits for compression, it hashes itself, and
 * no thread is started.
 */
import { createHash } from "node:crypto";
import type { HashPiece, HashReply, HashRequest } from "./hash_worker.ts";

export interface StreamHash {
  /**
   * Adds `chunks`, in order after those added before. They must stay
   * unchanged until the returned promise settles.
   */
  update(chunks: readonly Uint8Array[]): Promise<void>;
  /** The SHA-256 of everything added, lowercase hex; call once, after the last update. */
  digest(): Promise<string>;
  close(): void;
}

/** Hashing on this thread, as each update is made. */
export function hashHere(): StreamHash {
  const hash = createHash("sha256");
  return {
    update(chunks) {
      for (const chunk of chunks) hash.update(chunk);
      return Promise.resolve();
    },
    digest: () => Promise.resolve(hash.digest("hex")),
    close() {},
  };
}

/** Hashing on a worker thread; chunks in `buffers` are read there in place, others copied. */
export class HashThread implements StreamHash {
  readonly #worker: Worker;
  /** The shared buffers the worker knows, by their index in its list. */
  readonly #shared: Map<ArrayBufferLike, number>;
  /** Waiting for replies, oldest first: the worker answers in order. */
  readonly #waiting: { resolve: (reply: HashReply) => void; reject: (e: Error) => void }[] = [];
  /** Set once the worker fails: later requests fail at once instead of waiting forever. */
  #failure: Error | undefined;

  constructor(buffers: SharedArrayBuffer[]) {
    this.#shared = new Map(buffers.map((buffer, i) => [buffer, i]));
    this.#worker = new Worker(new URL("./hash_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (event: MessageEvent<HashReply>) =>
      this.#waiting.shift()?.resolve(event.data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`hashing worker failed: ${event.message}`));
    };
    // Shared memory is shared, not copied, when posted.
    this.#worker.postMessage({ buffers } satisfies HashRequest);
  }

  update(chunks: readonly Uint8Array[]): Promise<void> {
    const pieces = chunks.map((chunk): HashPiece => {
      const buffer = this.#shared.get(chunk.buffer);
      // slice(): posting a view would copy all of the memory it views.
      return buffer === undefined
        ? chunk.slice()
        : { buffer, offset: chunk.byteOffset, length: chunk.length };
    });
    const hashed = this.#request({ pieces }).then(() => {});
    // An update nobody awaits (a later one settles after it) must not fail unheard.
    hashed.catch(() => {});
    return hashed;
  }

  async digest(): Promise<string> {
    const reply = await this.#request({ digest: true });
    if (!("digest" in reply)) throw new Error("hashing worker answered out of turn");
    return reply.digest;
  }

  close(): void {
    this.#worker.terminate();
    this.#fail(new Error("hashing stopped"));
  }

  #request(request: HashRequest): Promise<HashReply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const reply = new Promise<HashReply>((resolve, reject) =>
      this.#waiting.push({ resolve, reject })
    );
    this.#worker.postMessage(request);
    return reply;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}
