/**
 * Unfinished work an interrupted run must not leave behind: files half
 * written, commands still producing. While any is registered, SIGINT and
 * SIGTERM undo them all at once and end the process with 130 or 143, the
 * codes a shell gives a program killed by that signal. Listening stops when
 * none is left, so a process with nothing unfinished takes the signal's
 * default course.
 */

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type Signal = keyof typeof EXIT_CODES;

const undoers = new Set<() => void>();
const handlers = new Map<Signal, () => void>();
const removals = new Map<string, () => void>();

/**
 * Runs `undo` (synchronously, so it must not wait) if the process is
 * interrupted before the returned function is called.
 */
export function onInterrupt(undo: () => void): () => void {
  const entry = () => undo();
  undoers.add(entry);
  if (handlers.size === 0) {
    for (const signal of Object.keys(EXIT_CODES) as Signal[]) {
      const handler = () => interrupted(signal);
      handlers.set(signal, handler);
      Deno.addSignalListener(signal, handler);
    }
  }
  return () => {
    undoers.delete(entry);
    if (undoers.size > 0) return;
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    handlers.clear();
  };
}

/** Removes `path` if the process is interrupted before forgetOnInterrupt(path). */
export function removeOnInterrupt(path: string): void {
  if (removals.has(path)) return;
  removals.set(
    path,
    onInterrupt(() => {
      try {
        Deno.removeSync(path);
      } catch {
        // Gone already, or never written: nothing is left either way.
      }
    }),
  );
}

/** `path` is finished, or gone: an interrupt leaves it alone. */
export function forgetOnInterrupt(path: string): void {
  removals.get(path)?.();
  removals.delete(path);
}

function interrupted(signal: Signal): never {
  for (const undo of undoers) undo();
  console.error(`tinybackup: error: interrupted by ${signal}; unfinished files were removed`);
  Deno.exit(EXIT_CODES[signal]);
}
