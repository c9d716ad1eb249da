/**
 * Which jobs are running now: a run holds `running/<id>` in the state folder
 * locked while it runs, so `unschedule` knows a job that is off the at(1)
 * queue because it is executing. The lock dies with the run, so the mark of
 * a run that was killed counts for nothing and is cleared by the next look.
 */
import { join } from "node:path";
import { removeIfUnlocked } from "../io/locked_file.ts";
import { ensureStateDir, stateDir } from "./state.ts";

function runningDir(): string {
  return join(stateDir(), "running");
}

/** Records that job `id` runs; dispose of the result when the run ends. */
export async function markRunning(id: string): Promise<AsyncDisposable> {
  await ensureStateDir();
  await Deno.mkdir(runningDir(), { recursive: true, mode: 0o700 });
  const path = join(runningDir(), id);
  let file: Deno.FsFile;
  while (true) {
    file = await Deno.open(path, { write: true, create: true, mode: 0o600 });
    // Shared: two runs of one job may overlap, and each marks it running.
    await file.lock(false);
    // A look at the marks may have removed the file between the open and the lock.
    const onDisk = await Deno.stat(path).catch(() => undefined);
    if (onDisk?.ino === (await file.stat()).ino) break;
    file.close();
  }
  await file.write(new TextEncoder().encode(new Date().toISOString() + "\n"));
  return {
    [Symbol.asyncDispose]: async () => {
      file.close();
      // The last run out removes the mark; one still running keeps it locked.
      await removeIfUnlocked(path);
    },
  };
}

/** The ids of the jobs running now; marks left by killed runs are removed, not counted. */
export async function runningIds(): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(runningDir())) {
      if (!(await removeIfUnlocked(join(runningDir(), entry.name)))) ids.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return ids;
}
