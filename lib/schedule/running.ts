/**
 * Which jobs are running now: a run writes `running/<id>` in the state
 * folder as it starts and removes it as it ends, so `unschedule` knows a job
 * that is off the at(1) queue because it is executing.
 */
import { join } from "node:path";
import { ensureStateDir, stateDir } from "./state.ts";

function runningDir(): string {
  return join(stateDir(), "running");
}

/** Records that job `id` runs; dispose of the result when the run ends. */
export async function markRunning(id: string): Promise<AsyncDisposable> {
  await ensureStateDir();
  await Deno.mkdir(runningDir(), { recursive: true, mode: 0o700 });
  const path = join(runningDir(), id);
  await Deno.writeTextFile(path, new Date().toISOString() + "\n");
  return { [Symbol.asyncDispose]: () => Deno.remove(path).catch(() => {}) };
}

/** The ids of the jobs running now (or killed while running). */
export async function runningIds(): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(runningDir())) ids.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return ids;
}
