/**
 * The bench's own source files: text that compresses about as well as logs
 * or dumps do (3-4x with gzip -6), and random bytes that do not compress at
 * all. Made fresh in the bench's temp folder, so nothing is downloaded.
 */

/** Bytes generated and written per step; large writes keep generation fast. */
const CHUNK = 4 * 1024 * 1024;

/** The largest request crypto.getRandomValues accepts. */
const RANDOM_MAX = 65536;

/** xorshift32: fast and seeded, so every run benchmarks the same text. */
export function xorshift32(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** One token in NUMBER_EVERY is a number rather than a word. */
const NUMBER_EVERY = 12;

const SYLLABLES = ["ka", "lo", "mer", "vin", "to", "sa", "ber", "qui", "den", "ra", "ul", "est"];

/** Made-up words, all in one flat array, so copying one is a short loop without allocation. */
interface Vocabulary {
  bytes: Uint8Array;
  /** Word i is bytes[starts[i]] up to bytes[starts[i + 1]]. */
  starts: Uint32Array;
  count: number;
}

/** A vocabulary of made-up words, so the text has word structure for LZ77 to find. */
function vocabulary(next: () => number, count: number): Vocabulary {
  let text = "";
  const starts = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    starts[i] = text.length;
    const syllables = 1 + (next() % 4);
    for (let s = 0; s < syllables; s++) text += SYLLABLES[next() % SYLLABLES.length];
  }
  starts[count] = text.length;
  return { bytes: new TextEncoder().encode(text), starts, count };
}

/**
 * Fills `buffer` with lines of words and numbers. Words are drawn with a skew
 * towards the first ones, as in real text, where a few words are most of it.
 */
function fillText(buffer: Uint8Array, next: () => number, words: Vocabulary): void {
  const SPACE = 0x20, NEWLINE = 0x0a, ZERO = 0x30;
  const end = buffer.length;
  let at = 0;
  let column = 0;
  while (at < end) {
    const roll = next();
    if (column > 60 + (roll & 31)) {
      buffer[at++] = NEWLINE;
      column = 0;
      continue;
    }
    if (column > 0) buffer[at++] = SPACE, column++;
    if ((roll >>> 8) % NUMBER_EVERY === 0) {
      // A number of up to four digits, written last digit first, then reversed.
      let n = next() % 10_000;
      const start = at;
      do {
        if (at < end) buffer[at] = ZERO + (n % 10);
        at++, column++;
        n = (n / 10) | 0;
      } while (n > 0);
      buffer.subarray(start, Math.min(at, end)).reverse();
    } else {
      const u = next() / 0x1_0000_0000;
      const i = (u * u * u * words.count) | 0;
      const from = words.starts[i], to = words.starts[i + 1];
      for (let b = from; b < to && at < end; b++) buffer[at++] = words.bytes[b];
      column += to - from;
    }
  }
}

/** Writes `size` bytes made by `fill` to `path`, fsynced so no writeback disturbs timings. */
async function writeMade(
  path: string,
  size: number,
  fill: (buffer: Uint8Array) => void,
): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const buffer = new Uint8Array(CHUNK);
  for (let written = 0; written < size;) {
    const part = buffer.subarray(0, Math.min(CHUNK, size - written));
    fill(part);
    for (let done = 0; done < part.length;) done += await file.write(part.subarray(done));
    written += part.length;
  }
  await file.sync();
}

/** Writes `size` bytes of text-like, compressible content to `path`. */
export async function makeTextFile(path: string, size: number, seed = 1): Promise<void> {
  const next = xorshift32(seed);
  const words = vocabulary(next, 2000);
  await writeMade(path, size, (buffer) => fillText(buffer, next, words));
}

/** Writes `size` random, incompressible bytes to `path`. */
export async function makeRandomFile(path: string, size: number): Promise<void> {
  await writeMade(path, size, (buffer) => {
    for (let at = 0; at < buffer.length; at += RANDOM_MAX) {
      crypto.getRandomValues(buffer.subarray(at, at + RANDOM_MAX));
    }
  });
}
