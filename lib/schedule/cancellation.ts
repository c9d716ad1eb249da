/**
 * Cancellation marks. `unschedule` removes a job's queued run, but a run
 * that is executing at that moment queues its successor itself; it checks
 * for a mark before and after queueing, so it never outlives an unschedule.
 */
import { join } from "node:path";
import { ensureStateDir, stateDir } from "./state.ts";

/** Marks older than this cannot matter: a run queues its successor as it starts. */
const MARK_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

function marksDir(): string {
  return join(stateDir(), "cancelled");
}

/** Marks job `id` as cancelled, and forgets marks too old to matter. */
export async function markCancelled(id: string): Promise<void> {
  await ensureStateDir();
  await Deno.mkdir(marksDir(), { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(marksDir(), id), new Date().toISOString() + "\n");
  for await (const entry of Deno.readDir(marksDir())) {
    const path = join(marksDir(), entry.name);
    const info = await Deno.stat(path).catch(() => undefined);
    if (info?.mtime && Date.now() - info.mtime.getTime() > MARK_LIFETIME_MS) {
      await Deno.remove(path).catch(() => {});
    }
  }
}

/** Whether job `id` has been cancelled. */
export async function isCancelled(id: string): Promise<boolean> {
  try {
    await Deno.stat(join(marksDir(), id));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Clears the mark of job `id`: a config file's backup keeps its id, so when
 * it is scheduled again after being removed, its new runs must not read the
 * old mark as theirs.
 */
export async function clearCancelled(id: string): Promise<void> {
  await Deno.remove(join(marksDir(), id)).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}
