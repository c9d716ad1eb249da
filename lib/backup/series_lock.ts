/**
 * One run at a time per series and destination. Two runs of one series that
 * overlap (a job every minute with a slow source, two jobs fired together)
 * would otherwise both read, both store and both rotate; with the lock the
 * second waits a little for the first, then gives up and says since when the
 * first has been running. The lock dies with its process, so a killed run
 * never blocks the ones after it.
 */
import { createHash } from "node:crypto";
import { RunError } from "../errors.ts";
import type { Store } from "../stores/store.ts";

/** How long a run waits for another run of its series by default, in seconds. */
export const DEFAULT_LOCK_WAIT_SECONDS = 30;

const POLL_MS = 100;

/**
 * Takes the lock of series `name` in `store`, waiting up to `waitSeconds`.
 * Stores without locks give a lock that holds nothing.
 * @throws {RunError} when another run still holds it after that
 */
export async function lockSeries(
  store: Store,
  name: string,
  waitSeconds: number,
): Promise<AsyncDisposable> {
  if (!store.tryLock) return { [Symbol.asyncDispose]: () => Promise.resolve() };
  // A name may hold any character and 255 bytes; its hash makes a short, safe file name.
  const key = createHash("sha256").update(name).digest("hex").slice(0, 32);
  const holder = JSON.stringify({ pid: Deno.pid, since: new Date().toISOString() });
  // The monotonic clock: a clock jump neither cuts the wait short nor makes it endless.
  const deadline = performance.now() + waitSeconds * 1000;
  while (true) {
    const lock = await store.tryLock(key, holder);
    if (!("heldBy" in lock)) return lock;
    if (performance.now() >= deadline) {
      throw new RunError(
        `another run of '${name}' to ${store.location} ${
          describeHolder(lock.heldBy)
        }; this run made no backup`,
        "let it finish; a run that was killed holds no lock",
      );
    }
    await new Promise((wake) => setTimeout(wake, POLL_MS));
  }
}

/** "has been running since ... (pid N)", from what the holder wrote. */
export function describeHolder(heldBy: string): string {
  try {
    const { pid, since } = JSON.parse(heldBy);
    if (Number.isSafeInteger(pid) && typeof since === "string") {
      return `has been running since ${since} (pid ${pid})`;
    }
  } catch {
    // Written by a run that died halfway through writing it, say.
  }
  return "is running";
}
