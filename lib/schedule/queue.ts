/**
 * tinybackup's jobs in the at(1) queue: found by reading every job in the
 * queue and keeping those with a tinybackup marker, queued with their own
 * next-run time (or their time spec), removed with atrm.
 */
import { UsageError } from "../errors.ts";
import { listQueue, readJob, removeJob, submitJob } from "./at.ts";
import { parseScriptUid } from "./at_format.ts";
import { type Job, jobScript, parseJobScript } from "./job.ts";
import { runLogPath } from "./run_log.ts";

export interface QueuedJob {
  job: Job;
  /** The at job number of the queued (or running) run. */
  atJob: number;
  /** When the queued run is due: the job's own time, else what atq says. */
  next?: Date;
  /** The run is executing now; it has queued, or will queue, its successor itself. */
  running: boolean;
}

/** Every tinybackup job of this user in the queue, running ones too, soonest first. */
export function findJobs(): Promise<QueuedJob[]> {
  return new QueueReader().findJobs();
}

/**
 * Looks at the queue as often as asked, reading each job's script once:
 * `schedule` looks again under each job's lock, and reading every script
 * each time made it quadratic in the number of jobs. A script never changes
 * under its number, which at does not reuse while the job exists.
 */
export class QueueReader {
  /** Each job number's tinybackup job, or null when it is none of ours. */
  readonly #jobs = new Map<number, Job | null>();

  /** Every tinybackup job of this user in the queue now, running ones too, soonest first. */
  async findJobs(): Promise<QueuedJob[]> {
    const found: QueuedJob[] = [];
    for (const entry of await listQueue()) {
      const job = await this.#jobOf(entry.number);
      if (!job) continue;
      const next = job.next ? new Date(job.next) : entry.due;
      found.push({ job, atJob: entry.number, next, running: entry.queue === "=" });
    }
    return found.sort((a, b) => (a.next?.getTime() ?? Infinity) - (b.next?.getTime() ?? Infinity));
  }

  async #jobOf(number: number): Promise<Job | null> {
    const known = this.#jobs.get(number);
    if (known !== undefined) return known;
    const script = await readJob(number);
    // A job gone since atq listed it is not remembered: it is not in the next listing either.
    if (script === undefined) return null;
    const job = parseJobScript(script) ?? null;
    // root's atq shows every user's jobs; only our own are ours to list or remove.
    const owner = parseScriptUid(script);
    const uid = Deno.uid();
    const ours = job && (uid === null || owner === undefined || owner === uid) ? job : null;
    this.#jobs.set(number, ours);
    return ours;
  }
}

/**
 * Queues the next run of `job`; returns its at job number and when it is due.
 * @throws {UsageError} when at rejects a time spec, or when it is due right
 * away: applied again after each run, it would run the job without pause
 */
export async function queueJob(job: Job): Promise<{ atJob: number; next?: Date }> {
  if (job.schedule.kind === "every") {
    const next = new Date(job.next!);
    return { atJob: await submitJob(jobScript(job, runLogPath()), next), next };
  }
  const next = await whenSpecIsDue(job.schedule.spec);
  if (next === undefined || next.getTime() <= Date.now()) {
    throw new UsageError(
      `the time '${job.schedule.spec}' is due right away, so repeating it would run without pause`,
      "give a time that comes round again, like '02:00' or 'now + 1 hour'",
    );
  }
  return { atJob: await submitJob(jobScript(job, runLogPath()), job.schedule.spec), next };
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

/** Queues `job` like queueJob, but returns a failure instead of throwing it, so a run goes on. */
export async function tryQueueJob(
  job: Job,
): Promise<{ nextAtJob?: number; requeueError?: string }> {
  try {
    return { nextAtJob: (await queueJob(job)).atJob };
  } catch (error) {
    return { requeueError: error instanceof Error ? error.message : String(error) };
  }
}
