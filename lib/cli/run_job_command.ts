/**
 * `tinybackup run-job JOB`: what an at(1) job runs. It queues the job's next
 * run first and backs up second, so a failed backup never breaks the chain,
 * and records every run in the run log. Trouble with tinybackup's own state
 * (a full or missing state folder) is reported but never stops the chain.
 * It prints nothing when all is well, since at(1) mails any output.
 */
import { resolveEncryption } from "./encryption_keys.ts";
import { DEFAULT_RETRY_DELAYS } from "../backup/run_backup.ts";
import { backUpParts, failureOf } from "./back_up_parts.ts";
import { DEFAULT_LOCK_WAIT_SECONDS } from "../backup/series_lock.ts";
import { RunError, UsageError } from "../errors.ts";
import { removeJob } from "../schedule/at.ts";
import { isCancelled } from "../schedule/cancellation.ts";
import { type Job, parseJob, successor } from "../schedule/job.ts";
import { tryQueueJob } from "../schedule/queue.ts";
import { appendRun, type RunRecord } from "../schedule/run_log.ts";
import { markRunning } from "../schedule/running.ts";
import { openSource } from "../sources/open_source.ts";
import { sourcePath } from "../sources/source_spec.ts";
import { openDestination } from "./destination.ts";
import { runConfigJob } from "./run_config_job.ts";
import { isMissing } from "../io/is_missing.ts";
import { Messages } from "./output.ts";

export async function runJobCommand(argv: string[]): Promise<void> {
  const job = jobFrom(argv);
  const now = new Date();
  const messages = new Messages();
  const log = async (record: Omit<RunRecord, "time" | "id">) => {
    await appendRun({ time: now.toISOString(), id: job.id, ...record }).catch((error) =>
      messages.warning(`job ${job.id}: cannot write the run log: ${error.message}`)
    );
  };
  await using _running = await markRunning(job.id).catch(() => undefined);
  const cancelled = () => isCancelled(job.id).catch(() => false);

  if (await cancelled()) {
    return await log({ result: "cancelled", message: "the job was unscheduled; not run" });
  }
  if (job.config) return await runConfigJob(job, now, log, cancelled);
  const path = sourcePath(job.source);
  if (job.stopIfMissing && path !== undefined && await isMissing(path)) {
    await log({
      result: "stopped",
      message: `the source is gone, so the job stopped: ${path}`,
    });
    messages.note(`job ${job.id} stopped: the source is gone: ${path}`);
    return;
  }

  const next = successor(job, now);
  const { nextAtJob, requeueError } = next ? await tryQueueJob(next) : {};
  if (nextAtJob !== undefined && await cancelled()) {
    // unschedule ran while we queued; it may not have seen the new run.
    await removeJob(nextAtJob);
    return await log({ result: "cancelled", message: "the job was unscheduled while it started" });
  }
  const unqueued = requeueError ? `; and the next run could not be queued: ${requeueError}` : "";

  let failure: RunError | undefined;
  try {
    const store = await openDestination(job.dest, false, job.destSshConfig);
    const { parts } = await openSource(job.source, job.name, () => store.scratchFile());
    const encryption = job.encryption && await resolveEncryption(job.encryption);
    const outcomes = await backUpParts(parts, {
      encryption,
      store,
      compression: job.compression,
      retention: job.retention,
      force: false,
      allowChanging: false,
      allowEmpty: false,
      retryDelays: DEFAULT_RETRY_DELAYS,
      lockWaitSeconds: DEFAULT_LOCK_WAIT_SECONDS,
    });
    const done = outcomes.flatMap(({ result }) => result ? [result] : []);
    const warnings = done.flatMap((result) => result.warnings);
    failure = failureOf(outcomes);
    const unchanged = done.every((result) => result.unchanged);
    const said = done.map((result) =>
      (result.unchanged ? "unchanged: " : "backed up to ") + result.backup.path
    ).join("; ");
    await log({
      result: failure ? "failed" : unchanged ? "unchanged" : "ok",
      message: (failure ? `${failure.message}; ` : "") + said +
        warnings.map((w) => `; warning: ${w}`).join("") + unqueued,
      path: done[0]?.backup.path,
      nextAtJob,
    });
    // at(1) mails what a job prints: damage found on the way is worth a mail.
    for (const warning of warnings) new Messages().warning(`job ${job.id}: ${warning}`);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)) + unqueued;
    await log({ result: "failed", message, nextAtJob });
    throw error instanceof UsageError || error instanceof RunError
      ? new RunError(`job ${job.id}: ${message}`, error.hint)
      : error;
  }
  if (failure) throw new RunError(`job ${job.id}: ${failure.message}${unqueued}`);
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
