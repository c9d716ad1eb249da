/** A worker that compresses blocks (see compress_block.ts) in the shared slots of parallel_compress.ts. */
import { releaseBuffers } from "../io/release_buffers.ts";
import { compressBlock } from "./compress_block.ts";
import type { Compression } from "./naming.ts";

/** One block's shared memory: content in, compressed form out. */
export interface SlotMemory {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
}

/** First the slots, once; then, per block, which slot holds how many bytes. */
export type CompressRequest =
  | { slots: SlotMemory[] }
  | { slot: number; length: number; compression: Exclude<Compression, "none"> };

/** The compressed length now in the slot's output, or why there is none. */
export type CompressResult = { slot: number; length: number } | { slot: number; error: string };

const worker = self as unknown as Worker;
let slots: SlotMemory[] = [];

worker.onmessage = (event: MessageEvent<CompressRequest>) => {
  const request = event.data;
  if ("slots" in request) {
    slots = request.slots;
    return;
  }
  const { slot, length, compression } = request;
  try {
    const { input, output } = slots[slot];
    const compressed = compressBlock(compression, new Uint8Array(input, 0, length));
    if (compressed.length > output.byteLength) {
      throw new Error(`a compressed block of ${compressed.length} bytes does not fit its slot`);
    }
    new Uint8Array(output).set(compressed);
    worker.postMessage({ slot, length: compressed.length } satisfies CompressResult);
  } catch (error) {
    worker.postMessage(
      {
        slot,
        error: error instanceof Error ? error.message : String(error),
      } satisfies CompressResult,
    );
  }
  releaseBuffers();
};
