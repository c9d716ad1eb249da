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
export async function findJobs(): Promise<QueuedJob[]> {
  const found: QueuedJob[] = [];
  const uid = Deno.uid();
  for (const entry of await listQueue()) {
    const script = await readJob(entry.number);
    const job = script === undefined ? undefined : parseJobScript(script);
    if (!job) continue;
    // root's atq shows every user's jobs; only our own are ours to list or remove.
    const owner = parseScriptUid(script!);
    if (uid !== null && owner !== undefined && owner !== uid) continue;
    const next = job.next ? new Date(job.next) : entry.due;
    found.push({ job, atJob: entry.number, next, running: entry.queue === "=" });
  }
  return found.sort((a, b) => (a.next?.getTime() ?? Infinity) - (b.next?.getTime() ?? Infinity));
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
