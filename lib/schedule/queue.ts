/**
 * tinybackup's jobs in the at(1) queue: found by reading every job in the
 * queue and keeping those with a tinybackup marker, queued with their own
 * next-run time (or their time spec), removed with atrm.
 */
import { RunError } from "../errors.ts";
import { listQueue, readJob, removeJob, submitJob } from "./at.ts";
import { type Job, jobScript, parseJobScript } from "./job.ts";
import { nextRunAfter } from "./next_run.ts";

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

/**
 * Queues the next run of `job`; returns its at job number and when it is due.
 * @throws {UsageError} when at rejects a time spec
 * @throws {RunError} when a time spec is due right away: applied again after
 * each run, it would run the job without pause
 */
export async function queueJob(job: Job): Promise<{ atJob: number; next?: Date }> {
  if (job.schedule.kind === "every") {
    let next = new Date(job.next!);
    for (let attempt = 1;; attempt++) {
      try {
        return {
          atJob: await submitJob(jobScript({ ...job, next: next.toISOString() }), next),
          next,
        };
      } catch (error) {
        // at -t takes local time. In the hour that repeats when clocks go
        // back, it names two moments; at may take the earlier, already past,
        // and refuse. The slot after is past that hour.
        if (attempt === 3 || !(error instanceof RunError)) throw error;
        next = nextRunAfter(job.schedule, next);
      }
    }
  }
  const next = await whenSpecIsDue(job.schedule.spec);
  if (next === undefined || next.getTime() <= Date.now()) {
    throw new RunError(
      `the time '${job.schedule.spec}' is due right away, so repeating it would run without pause`,
      "give a time that comes round again, like '02:00' or 'now + 1 hour'",
    );
  }
  return { atJob: await submitJob(jobScript(job), job.schedule.spec), next };
}

/**
 * When at(1) would run a job with time spec `spec`, learnt by queueing a job
 * that does nothing and removing it. Undefined when it is due so soon that
 * atd started it already.
 */
async function whenSpecIsDue(spec: string): Promise<Date | undefined> {
  const probe = await submitJob("true\n", spec);
  const due = (await listQueue()).find((entry) => entry.number === probe)?.due;
  await removeJob(probe);
  return due;
}
