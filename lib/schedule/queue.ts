/**
 * tinybackup's jobs in the at(1) queue: found by reading every job in the
 * queue and keeping those with a tinybackup marker, queued with their own
 * next-run time (or their time spec), removed with atrm.
 */
import { listQueue, readJob, submitJob } from "./at.ts";
import { type Job, jobScript, parseJobScript } from "./job.ts";

export interface QueuedJob {
  job: Job;
  /** The at job number of the queued run. */
  atJob: number;
  /** When the queued run is due: the job's own time, else what atq says. */
  next?: Date;
}

/** Every tinybackup job in the queue, soonest first. */
export async function findJobs(): Promise<QueuedJob[]> {
  const found: QueuedJob[] = [];
  for (const entry of await listQueue()) {
    const script = await readJob(entry.number);
    const job = script === undefined ? undefined : parseJobScript(script);
    if (!job) continue;
    found.push({ job, atJob: entry.number, next: job.next ? new Date(job.next) : entry.due });
  }
  return found.sort((a, b) => (a.next?.getTime() ?? Infinity) - (b.next?.getTime() ?? Infinity));
}

/** Queues the next run of `job`; returns its at job number. */
export async function queueJob(job: Job): Promise<number> {
  const when = job.schedule.kind === "every" ? new Date(job.next!) : job.schedule.spec;
  return await submitJob(jobScript(job), when);
}
