/**
 * Encrypting to age as a stream, hashing the age file as it goes (the
 * backup's stored checksum). Plaintext is copied into shared-memory slots
 * laid out as the sealed chunks will be (each chunk followed by room for its
 * tag) and sealed there in place.
 *
 * Where the main thread would be the limit (content that does not compress:
 * it then reads, writes and copies every byte), the slots are sealed and
 * hashed on a thread of its own, which took a backup of 256 MiB of random
 * bytes from 0.72 s to 0.60 s on 2 cores. Where compression keeps the main
 * thread waiting anyway, it seals here: a thread would cost some 20 MiB
 * for nothing. Only slot numbers travel between threads (see
 * parallel_compress.ts for why posting the bytes costs memory).
 */
import { createHash, randomBytes } from "node:crypto";
import { OrderedWorker } from "../io/ordered_worker.ts";
import { releaseBuffers } from "../io/release_buffers.ts";
import { type Recipients, wrapFileKey } from "./file_key.ts";
import { formatHeader } from "./header.ts";
import type { SealReply, SealRequest } from "./seal_worker.ts";
import { CHUNK, NONCE, payloadKey, sealInPlace, TAG } from "./stream.ts";

/** Chunks per slot: 2 MiB of plaintext, as a compression block. */
const CHUNKS_PER_SLOT = 32;
const SLOT_PLAIN = CHUNKS_PER_SLOT * CHUNK;
/** On a thread: one slot being filled, one being sealed, one being written. */
const THREAD_SLOTS = 3;

/** Seals slots in turn and hashes the age file. */
interface Sealer {
  /** The sealed length of the slot; see sealInPlace. */
  seal(slot: number, plainLength: number, counter: number, last: boolean): Promise<number>;
  /** SHA-256 of the age file, lowercase hex, once the last slot is sealed. */
  digest(): Promise<string>;
  close(): void;
}

function sealerHere(slots: SharedArrayBuffer[], key: Uint8Array, start: Uint8Array): Sealer {
  const hash = createHash("sha256").update(start);
  return {
    seal(slot, plainLength, counter, last) {
      const sealed = sealInPlace(key, new Uint8Array(slots[slot]), plainLength, counter, last);
      hash.update(sealed);
      // Each chunk's cipher leaves buffers outside V8's heap (see releaseBuffers).
      releaseBuffers();
      return Promise.resolve(sealed.length);
    },
    digest: () => Promise.resolve(hash.digest("hex")),
    close() {},
  };
}

function sealerOnThread(slots: SharedArrayBuffer[], key: Uint8Array, start: Uint8Array): Sealer {
  const thread = new OrderedWorker<SealRequest, SealReply>(
    new URL("./seal_worker.ts", import.meta.url),
    { slots, key, start } satisfies SealRequest,
    "sealing",
  );
  return {
    async seal(slot, plainLength, counter, last) {
      const reply = await thread.request({ slot, plainLength, counter, last });
      if (!("sealedLength" in reply)) throw new Error("sealing worker answered out of turn");
      return reply.sealedLength;
    },
    async digest() {
      const reply = await thread.request({ digest: true });
      if (!("digest" in reply)) throw new Error("sealing worker answered out of turn");
      return reply.digest;
    },
    close: () => thread.close(),
  };
}

const newSlot = () => new SharedArrayBuffer(CHUNKS_PER_SLOT * (CHUNK + TAG));

/** An encryption to `recipients` under a new file key; `encrypt` may be used once. */
export function ageEncryption(recipients: Recipients): {
  fileKey: Uint8Array;
  /**
   * The age file of `plain`. Each chunk of `output` is valid only until the
   * next one is asked for. Consume `output` fully, then call `sha256()`.
   * @param onThread asked once, when more than a slot of plaintext has
   *   come: whether the main thread is the limit, so sealing goes on a thread
   */
  encrypt(plain: AsyncIterable<Uint8Array>, onThread?: () => boolean): {
    output: AsyncIterable<Uint8Array>;
    /** SHA-256 of the whole age file, lowercase hex. */
    sha256(): string;
  };
} {
  const fileKey = new Uint8Array(randomBytes(16));
  const header = formatHeader(wrapFileKey(fileKey, recipients), fileKey);
  return {
    fileKey,
    encrypt(plain, onThread = () => false) {
      let sha256: string | undefined;
      async function* output(): AsyncGenerator<Uint8Array> {
        const nonce = new Uint8Array(randomBytes(NONCE));
        const key = payloadKey(fileKey, nonce);
        const start = new Uint8Array(header.length + NONCE);
        start.set(header);
        start.set(nonce, header.length);
        // More slots only with a thread: sealing here is done before the next slot is filled.
        const slots = [newSlot()];
        let sealer: Sealer | undefined;
        // Slots in payload order. The slot being filled is never among them: once all are,
        // the oldest is written out before it is filled again.
        const inFlight: { slot: number; sealedLength: Promise<number> }[] = [];
        let current = 0;
        let filled = 0;
        let counter = 0;
        const submit = (last: boolean) => {
          if (!sealer) {
            const threaded = !last && onThread();
            while (threaded && slots.length < THREAD_SLOTS) slots.push(newSlot());
            sealer = (threaded ? sealerOnThread : sealerHere)(slots, key, start);
          }
          const sealedLength = sealer.seal(current, filled, counter, last);
          // Slots queued behind a failed one are never awaited; their failure is not news.
          sealedLength.catch(() => {});
          inFlight.push({ slot: current, sealedLength });
          counter += CHUNKS_PER_SLOT;
          current = (current + 1) % slots.length;
          filled = 0;
        };
        const oldest = async () => {
          const { slot, sealedLength } = inFlight.shift()!;
          return new Uint8Array(slots[slot], 0, await sealedLength);
        };
        try {
          yield start;
          for await (const chunk of plain) {
            for (let offset = 0; offset < chunk.length;) {
              // A full slot waits for one more byte: only the end says its last chunk is the last.
              if (filled === SLOT_PLAIN) {
                submit(false);
                if (inFlight.length === slots.length) yield await oldest();
              }
              const inChunk = filled % CHUNK;
              const n = Math.min(chunk.length - offset, CHUNK - inChunk);
              const at = (filled - inChunk) / CHUNK * (CHUNK + TAG) + inChunk;
              new Uint8Array(slots[current], at, n).set(chunk.subarray(offset, offset + n));
              filled += n;
              offset += n;
            }
          }
          submit(true);
          while (inFlight.length > 0) yield await oldest();
          sha256 = await sealer!.digest();
        } finally {
          sealer?.close();
        }
      }
      return {
        output: output(),
        sha256() {
          if (!sha256) throw new Error("ageEncryption: sha256() before the output was consumed");
          return sha256;
        },
      };
    },
  };
}
