/**
 * Unfinished files an interrupted run must not leave behind. While any is
 * registered, SIGINT and SIGTERM remove them all at once and end the process
 * with 130 or 143, the codes a shell gives a program killed by that signal.
 * Listening stops when none is left, so a process with nothing unfinished
 * takes the signal's default course.
 */

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type Signal = keyof typeof EXIT_CODES;

const unfinished = new Set<string>();
const handlers = new Map<Signal, () => void>();

/** Removes `path` if the process is interrupted before forgetOnInterrupt(path). */
export function removeOnInterrupt(path: string): void {
  unfinished.add(path);
  if (handlers.size > 0) return;
  for (const signal of Object.keys(EXIT_CODES) as Signal[]) {
    const handler = () => interrupted(signal);
    handlers.set(signal, handler);
    Deno.addSignalListener(signal, handler);
  }
}

/** `path` is finished, or gone: an interrupt leaves it alone. */
export function forgetOnInterrupt(path: string): void {
  unfinished.delete(path);
  if (unfinished.size > 0) return;
  for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  handlers.clear();
}

function interrupted(signal: Signal): never {
  for (const path of unfinished) {
    try {
      Deno.removeSync(path);
    } catch {
      // Gone already, or never written: nothing is left either way.
    }
  }
  console.error(`tinybackup: error: interrupted by ${signal}; unfinished files were removed`);
  Deno.exit(EXIT_CODES[signal]);
}
