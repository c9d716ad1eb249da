/** A worker that compresses blocks (see compress_block.ts) sent by parallel_compress.ts. */
import { releaseBuffers } from "../io/release_buffers.ts";
import { compressBlock } from "./compress_block.ts";
import type { Compression } from "./naming.ts";

export interface BlockRequest {
  id: number;
  compression: Exclude<Compression, "none">;
  block: Uint8Array;
}

export type BlockResult = { id: number; compressed: Uint8Array } | { id: number; error: string };

const worker = self as unknown as Worker;

worker.onmessage = (event: MessageEvent<BlockRequest>) => {
  const { id, compression, block } = event.data;
  try {
    let compressed = compressBlock(compression, block);
    // Only a buffer of its own can be transferred instead of copied.
    if (compressed.byteLength !== compressed.buffer.byteLength) compressed = compressed.slice();
    worker.postMessage({ id, compressed } satisfies BlockResult, [
      compressed.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    worker.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
  releaseBuffers();
};
