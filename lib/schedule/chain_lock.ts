/**
 * Who queues a config job's next run: the running job (its successor) or
 * `schedule` (a new chain, or a changed one). Each looks at the queue and
 * queues under this lock, held with flock for a moment, so whichever comes
 * second sees what the first queued and a job's chain is never queued twice.
 */
import { join } from "node:path";
import { ensureStateDir } from "./state.ts";
import { type QueuedJob, QueueReader } from "./queue.ts";

/** Holds the lock of job `id`'s chain; dispose of the result to let it go. */
export async function lockJobChain(id: string): Promise<Disposable> {
  const folder = join(await ensureStateDir(), "locks");
  await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  // Never removed: removing a lock file while another process opens it would give two locks.
  const file = await Deno.open(join(folder, `job-${id}.lock`), {
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    await file.lock(true);
  } catch (error) {
    file.close();
    throw error;
  }
  return { [Symbol.dispose]: () => file.close() };
}

/** Job `id`'s runs in the queue: the one executing now, if any, and those waiting (one, unless something went wrong). */
export async function runsOf(
  id: string,
  queue: Pick<QueueReader, "findJobs"> = new QueueReader(),
): Promise<{ running?: QueuedJob; waiting: QueuedJob[] }> {
  const mine = (await queue.findJobs()).filter((q) => q.job.id === id);
  return { running: mine.find((q) => q.running), waiting: mine.filter((q) => !q.running) };
}
