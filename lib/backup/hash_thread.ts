/**
 * SHA-256 of a stream of chunks, on a thread of its own or on this one. On
 * content that does not compress, hashing it and its stored form took half
 * of the main thread's time, which also reads and writes every byte: there,
 * two threads hash the two side by side while the main thread goes on.
 * Where the main thread mostly waits for compression, it hashes itself, and
 * no thread is started.
 */
import { createHash } from "node:crypto";
import { OrderedWorker } from "../io/ordered_worker.ts";
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
  readonly #worker: OrderedWorker<HashRequest, HashReply>;
  /** The shared buffers the worker knows, by their index in its list. */
  readonly #shared: Map<ArrayBufferLike, number>;

  constructor(buffers: SharedArrayBuffer[]) {
    this.#shared = new Map(buffers.map((buffer, i) => [buffer, i]));
    this.#worker = new OrderedWorker(
      new URL("./hash_worker.ts", import.meta.url),
      { buffers } satisfies HashRequest,
      "hashing",
    );
  }

  update(chunks: readonly Uint8Array[]): Promise<void> {
    const pieces = chunks.map((chunk): HashPiece => {
      const buffer = this.#shared.get(chunk.buffer);
      // slice(): posting a view would copy all of the memory it views.
      return buffer === undefined
        ? chunk.slice()
        : { buffer, offset: chunk.byteOffset, length: chunk.length };
    });
    const hashed = this.#worker.request({ pieces }).then(() => {});
    // An update nobody awaits (a later one settles after it) must not fail unheard.
    hashed.catch(() => {});
    return hashed;
  }

  async digest(): Promise<string> {
    const reply = await this.#worker.request({ digest: true });
    if (!("digest" in reply)) throw new Error("hashing worker answered out of turn");
    return reply.digest;
  }

  close(): void {
    this.#worker.close();
  }
}
