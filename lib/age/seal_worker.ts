/**
 * A worker that seals age's payload for encryption.ts, slot after slot in
 * place (see sealInPlace), and hashes the age file as it goes: the
 * backup's stored checksum.
 */
import { createHash } from "node:crypto";
import { releaseBuffers } from "../io/release_buffers.ts";
import { sealInPlace } from "./stream.ts";

/**
 * First, once: the slots, the payload key, and the age file's start (header
 * and nonce), which is hashed then. After that, per slot, what sealInPlace
 * needs; or, at the end, the digest.
 */
export type SealRequest =
  | { slots: SharedArrayBuffer[]; key: Uint8Array; start: Uint8Array }
  | { slot: number; plainLength: number; counter: number; last: boolean }
  | { digest: true };

/** One reply for each request after the first, in order: the slot's sealed length, or the digest. */
export type SealReply = { sealedLength: number } | { digest: string };

const worker = self as unknown as Worker;
let slots: SharedArrayBuffer[] = [];
let key: Uint8Array = new Uint8Array();
const hash = createHash("sha256");

worker.onmessage = (event: MessageEvent<SealRequest>) => {
  const request = event.data;
  if ("slots" in request) {
    ({ slots, key } = request);
    hash.update(request.start);
  } else if ("digest" in request) {
    worker.postMessage({ digest: hash.digest("hex") } satisfies SealReply);
  } else {
    const { slot, plainLength, counter, last } = request;
    const sealed = sealInPlace(key, new Uint8Array(slots[slot]), plainLength, counter, last);
    hash.update(sealed);
    worker.postMessage({ sealedLength: sealed.length } satisfies SealReply);
    releaseBuffers();
  }
};
