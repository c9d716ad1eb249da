/**
 * `tinybackup run-job JOB`: what an at(1) job runs. It queues the job's next
 * run first and backs up second, so a failed backup never breaks the chain,
 * and records every run in the run log. It prints nothing when all is well,
 * since at(1) mails any output; failures go to stderr.
 */
import { runBackup } from "../backup/run_backup.ts";
import { DEFAULT_RETRY_DELAYS } from "../backup/run_backup.ts";
import { RunError, UsageError } from "../errors.ts";
import { removeJob } from "../schedule/at.ts";
import { isCancelled } from "../schedule/cancellation.ts";
import { type Job, parseJob, successor } from "../schedule/job.ts";
import { queueJob } from "../schedule/queue.ts";
import { markRunning } from "../schedule/running.ts";
import { appendRun, type RunRecord } from "../schedule/run_log.ts";
import { FileSource } from "../sources/file_source.ts";
import { openDestination } from "./destination.ts";

export async function runJobCommand(argv: string[]): Promise<void> {
  const job = jobFrom(argv);
  const time = new Date().toISOString();
  const log = (record: Omit<RunRecord, "time" | "id">) =>
    appendRun({ time, id: job.id, ...record });
  await using _running = await markRunning(job.id);

  if (await isCancelled(job.id)) {
    return await log({ result: "cancelled", message: "the job was unscheduled; not run" });
  }
  const sourceGone = await Deno.stat(job.file).then(() => false, () => true);
  if (sourceGone && job.stopIfMissing) {
    await log({
      result: "stopped",
      message: `the source is gone, so the job stopped: ${job.file}`,
    });
    console.error(`tinybackup: job ${job.id} stopped: the source is gone: ${job.file}`);
    return;
  }

  const { nextAtJob, requeueError } = await queueSuccessor(job);
  if (nextAtJob !== undefined && (await isCancelled(job.id))) {
    // unschedule ran while we queued; it may not have seen the new run.
    await removeJob(nextAtJob);
    return await log({ result: "cancelled", message: "the job was unscheduled while it started" });
  }

  try {
    const source = await FileSource.open(job.file);
    const result = await runBackup({
      source,
      name: job.name,
      store: await openDestination(job.dest, false),
      compression: job.compression,
      keep: job.keep,
      force: false,
      allowChanging: false,
      allowEmpty: false,
      retryDelays: DEFAULT_RETRY_DELAYS,
    });
    await log({
      result: result.unchanged ? "unchanged" : "ok",
      message: (result.unchanged ? "unchanged: " : "backed up to ") + result.backup.path +
        (requeueError ? `; but the next run could not be queued: ${requeueError}` : ""),
      path: result.backup.path,
      nextAtJob,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await log({ result: "failed", message, nextAtJob });
    throw error instanceof UsageError || error instanceof RunError
      ? new RunError(`job ${job.id}: ${message}`, error.hint)
      : error;
  }
  if (requeueError) {
    throw new RunError(`job ${job.id}: the next run could not be queued: ${requeueError}`);
  }
}

function jobFrom(argv: string[]): Job {
  if (argv.length !== 1) throw new UsageError("run-job takes one job; it is meant for at(1)");
  try {
    return parseJob(argv[0]);
  } catch {
    throw new UsageError("run-job: not a valid job", "jobs are made with --every or --time");
  }
}

/** Queues the next run, unless this one is the last. */
async function queueSuccessor(job: Job): Promise<{ nextAtJob?: number; requeueError?: string }> {
  const next = successor(job, new Date());
  if (!next) return {};
  try {
    return { nextAtJob: (await queueJob(next)).atJob };
  } catch (error) {
    return { requeueError: error instanceof Error ? error.message : String(error) };
  }
}
