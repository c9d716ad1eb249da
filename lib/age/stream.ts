/**
 * age's payload: the content in 64 KiB chunks, each sealed with
 * ChaCha20-Poly1305 under a key derived from the file key and a random
 * nonce, numbered, the last one marked, so that reordering, truncation
 * and extension are all caught. Encrypting (encryption.ts) seals chunks in
 * place; opening hands plaintext on only once its chunk authenticates.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { type Identities, unwrapFileKey } from "./file_key.ts";
import { AgeFormatError, parseHeader } from "./header.ts";
import { releaseBuffers } from "../io/release_buffers.ts";

/** Plaintext bytes per chunk; every chunk but the last is full. */
export const CHUNK = 64 * 1024;
/** The Poly1305 tag after each chunk's ciphertext. */
export const TAG = 16;
/** The payload nonce, between the header and the first chunk. */
export const NONCE = 16;

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", fileKey, nonce, "payload", 32));
}

function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(3, BigInt(counter));
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Seals chunk number `counter` in place: its ciphertext over `plain`, its tag in the TAG bytes after it. */
function sealChunkInPlace(
  key: Uint8Array,
  counter: number,
  room: Uint8Array,
  plainLength: number,
  last: boolean,
): void {
  const cipher = createCipheriv("chacha20-poly1305", key, chunkNonce(counter, last), {
    authTagLength: TAG,
  });
  room.set(cipher.update(room.subarray(0, plainLength)));
  cipher.final();
  room.set(cipher.getAuthTag(), plainLength);
}

/**
 * Seals, in place, `plainLength` bytes of plaintext laid out as the sealed
 * chunks will be (each chunk followed by TAG bytes of room), numbered from
 * `counter`; `last` when its last chunk ends the payload. An empty payload
 * is one empty, last chunk. Returns the sealed chunks.
 */
export function sealInPlace(
  key: Uint8Array,
  room: Uint8Array,
  plainLength: number,
  counter: number,
  last: boolean,
): Uint8Array {
  const chunks = Math.max(1, Math.ceil(plainLength / CHUNK));
  for (let i = 0; i < chunks; i++) {
    const at = i * (CHUNK + TAG);
    const length = Math.min(CHUNK, plainLength - i * CHUNK);
    sealChunkInPlace(key, counter + i, room.subarray(at), length, last && i === chunks - 1);
  }
  return room.subarray(0, plainLength + chunks * TAG);
}

function openChunk(
  key: Uint8Array,
  counter: number,
  sealed: Uint8Array,
  last: boolean,
): Uint8Array | undefined {
  const decipher = createDecipheriv("chacha20-poly1305", key, chunkNonce(counter, last), {
    authTagLength: TAG,
  });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
}

/**
 * Each opened chunk leaves a cipher and buffers outside V8's heap, which V8
 * collects late (see releaseBuffers): released every 4 MiB, memory stays flat.
 */
function releaseEvery(counter: number): void {
  if (counter % 64 === 0) releaseBuffers();
}

/** Bytes received, taken out again in pieces of any size. */
class ByteQueue {
  #chunks: Uint8Array[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    // Copied: a reader may reuse the memory of the chunks it hands out.
    this.#chunks.push(chunk.slice());
    this.length += chunk.length;
  }

  peekAll(): Uint8Array {
    if (this.#chunks.length !== 1) this.#chunks = [this.take(this.length)];
    this.length = this.#chunks[0].length;
    return this.#chunks[0];
  }

  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n;) {
      const first = this.#chunks[0];
      const part = Math.min(n - filled, first.length);
      out.set(first.subarray(0, part), filled);
      filled += part;
      if (part === first.length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(part);
    }
    this.length -= n;
    return out;
  }
}

/**
 * The plaintext of the age file `sealed`, authenticated chunk by chunk.
 * `onFileKey` learns the file key once the header checks out.
 * @throws {NoMatchingIdentity} when `identities` cannot open it
 * @throws {AgeFormatError} when it is not age, damaged, truncated or forged
 */
export async function* ageDecrypt(
  sealed: AsyncIterable<Uint8Array>,
  identities: Identities,
  onFileKey?: (fileKey: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  const queue = new ByteQueue();
  const reading = sealed[Symbol.asyncIterator]();
  const more = async (): Promise<boolean> => {
    const next = await reading.next();
    if (next.done) return false;
    queue.push(next.value);
    return true;
  };
  try {
    let header;
    while (!(header = queue.length > 0 ? parseHeader(queue.peekAll()) : undefined)) {
      if (!(await more())) throw new AgeFormatError("not an age file (it ends inside its header)");
    }
    const fileKey = unwrapFileKey(header.stanzas, identities);
    if (!header.macMatches(fileKey)) {
      throw new AgeFormatError("its header was altered (the MAC does not match)");
    }
    onFileKey?.(fileKey);
    queue.take(header.length);
    while (queue.length < NONCE) {
      if (!(await more())) throw new AgeFormatError("it is truncated (it ends before its payload)");
    }
    const key = payloadKey(fileKey, queue.take(NONCE));
    for (let counter = 0;; counter++) {
      // A chunk is the last only if nothing follows it.
      let ended = false;
      while (queue.length <= CHUNK + TAG && !ended) ended = !(await more());
      if (!ended) {
        const plain = openChunk(key, counter, queue.take(CHUNK + TAG), false);
        if (!plain) {
          throw new AgeFormatError(`it is damaged (chunk ${counter + 1} is not authentic)`);
        }
        yield plain;
        releaseEvery(counter + 1);
        continue;
      }
      const rest = queue.take(queue.length);
      if (rest.length < TAG || (rest.length === TAG && counter > 0)) {
        throw new AgeFormatError("it is truncated (its last chunk is missing)");
      }
      const plain = openChunk(key, counter, rest, true);
      if (!plain) {
        throw new AgeFormatError(
          `it is damaged or truncated (chunk ${counter + 1}, the last, is not authentic)`,
        );
      }
      if (plain.length > 0) yield plain;
      return;
    }
  } finally {
    await reading.return?.(undefined);
  }
}
