/**
 * A progress line on stderr, only when stderr is a terminal and the source is
 * large enough to wait for: never in pipes, logs or at(1) mail.
 */
import { humanSize } from "./format.ts";

const WORTH_SHOWING = 64 * 1024 * 1024;
const EVERY_MS = 200;

/** A progress callback for a read of `total` bytes, or undefined when none should show. */
export function progressFor(total: number | undefined): ProgressLine | undefined {
  if (total === undefined || total < WORTH_SHOWING || !Deno.stderr.isTerminal()) return undefined;
  return new ProgressLine(total);
}

class ProgressLine {
  #shownAt = 0;
  constructor(private readonly total: number) {}

  update = (done: number): void => {
    const now = Date.now();
    if (now - this.#shownAt < EVERY_MS) return;
    this.#shownAt = now;
    const percent = Math.min(100, Math.floor((done / this.total) * 100));
    this.#write(`\rtinybackup: ${percent}% (${humanSize(done)} of ${humanSize(this.total)})`);
  };

  /** Clears the line, so messages after it start clean. */
  clear(): void {
    this.#write("\r\x1b[2K");
  }

  #write(text: string): void {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  }
}
