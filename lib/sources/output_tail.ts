/**
 * The end of a command's error output, kept in bounded memory: what a failed
 * run quotes so that the reason shows in the error and in the run log.
 */

/** Bytes kept: enough for several long lines. */
const KEPT_BYTES = 4096;

/** Lines quoted at most. */
const QUOTED_LINES = 5;

export class OutputTail {
  #kept = new Uint8Array(0);
  #cut = false;

  add(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#kept.length + chunk.length);
    joined.set(this.#kept);
    joined.set(chunk, this.#kept.length);
    this.#cut ||= joined.length > KEPT_BYTES;
    this.#kept = joined.slice(Math.max(0, joined.length - KEPT_BYTES));
  }

  /** A whole line, without its end. */
  addLine(line: string): void {
    this.add(new TextEncoder().encode(`${line}\n`));
  }

  /** The last lines that hold anything, oldest first. */
  lines(): string[] {
    return lastLines(new TextDecoder().decode(this.#kept), this.#cut);
  }
}

/**
 * The last QUOTED_LINES lines of `text` that are not blank, trimmed. When
 * `cut` (the text began mid-stream), its first line is only the end of one
 * and is dropped, unless it is all there is.
 */
export function lastLines(text: string, cut: boolean): string[] {
  const lines = text.split(/\r?\n/);
  if (cut && lines.length > 1) lines.shift();
  return lines.map((line) => line.trim()).filter((line) => line !== "").slice(-QUOTED_LINES);
}

/** The longest line a LineSplitter hands on whole: a message naming the longest path. */
const LONGEST_LINE = 64 * 1024;

/**
 * Splits a stream of bytes into lines as they arrive, for output a caller
 * reads line by line (tar's messages). A longer line than LONGEST_LINE is
 * cut there, so memory stays bounded whatever a program prints.
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder();
  #partial = "";

  constructor(private readonly onLine: (line: string) => void) {}

  add(chunk: Uint8Array): void {
    const lines = (this.#partial + this.#decoder.decode(chunk, { stream: true })).split("\n");
    this.#partial = lines.pop()!.slice(-LONGEST_LINE);
    for (const line of lines) this.onLine(line.replace(/\r$/, ""));
  }

  /** The stream ended: the last line, if it had no end. */
  end(): void {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    if (rest !== "") this.onLine(rest);
  }
}
