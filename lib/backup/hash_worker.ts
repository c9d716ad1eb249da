/** A worker that keeps one SHA-256 hash for hash_thread.ts. */
import { createHash } from "node:crypto";

/** Bytes to hash: a stretch of one of the shared buffers, or (a few) bytes of their own. */
export type HashPiece = { buffer: number; offset: number; length: number } | Uint8Array;

/** First the shared buffers, once; then, in order, pieces to add, or the digest. */
export type HashRequest =
  | { buffers: SharedArrayBuffer[] }
  | { pieces: HashPiece[] }
  | { digest: true };

/** One reply for each request after the buffers, in the order they came. */
export type HashReply = { hashed: true } | { digest: string };

const worker = self as unknown as Worker;
let buffers: SharedArrayBuffer[] = [];
const hash = createHash("sha256");

worker.onmessage = (event: MessageEvent<HashRequest>) => {
  const request = event.data;
  if ("buffers" in request) {
    buffers = request.buffers;
  } else if ("digest" in request) {
    worker.postMessage({ digest: hash.digest("hex") } satisfies HashReply);
  } else {
    for (const piece of request.pieces) {
      hash.update(
        piece instanceof Uint8Array
          ? piece
          : new Uint8Array(buffers[piece.buffer], piece.offset, piece.length),
      );
    }
    worker.postMessage({ hashed: true } satisfies HashReply);
  }
};
