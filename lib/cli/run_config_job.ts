/**
 * The scheduled run of one backup of a config file. It reads the file again,
 * so an edit takes effect at the next run: a backup gone from the file (or
 * no longer scheduled), or a file gone, stops the job; a changed schedule
 * is what the next run is queued by; a file with mistakes fails this run
 * but keeps the chain, so fixing it is enough.
 */
import { type Config, loadConfig, type PlannedBackup } from "../config/load_config.ts";
import { RunError, UsageError } from "../errors.ts";
import { isMissing } from "../io/is_missing.ts";
import { removeJob } from "../schedule/at.ts";
import { type Job, sameSchedule, successor } from "../schedule/job.ts";
import { tryQueueJob } from "../schedule/queue.ts";
import { lockJobChain, runsOf } from "../schedule/chain_lock.ts";
import type { RunRecord } from "../schedule/run_log.ts";
import { sourcePath } from "../sources/source_spec.ts";
import { configJob } from "./config_job.ts";
import { Messages } from "./output.ts";
import { runPlannedBackup } from "./run_planned_backup.ts";

type Log = (record: Omit<RunRecord, "time" | "id">) => Promise<void>;

export async function runConfigJob(
  job: Job,
  now: Date,
  log: Log,
  cancelled: () => Promise<boolean>,
): Promise<void> {
  const { path, backup: name } = job.config!;
  const messages = new Messages();
  restoreConnectionEnvironment(job);
  let config: Config | undefined;
  let invalid: UsageError | undefined;
  try {
    config = await loadConfig(path);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (await isMissing(path)) {
      await log({
        result: "stopped",
        message: `the config file is gone, so the job stopped: ${path}`,
      });
      messages.note(`job ${job.id} stopped: the config file is gone: ${path}`);
      return;
    }
    invalid = error;
  }
  const backup = config?.backups.find((b) => b.name === name);
  if (config && !backup?.runs[0].schedule) {
    const why = backup ? "is no longer scheduled" : "is no longer";
    await log({
      result: "stopped",
      message: `backup '${name}' ${why} in ${path}, so the job stopped`,
    });
    return;
  }
  const stopIfMissing = backup?.runs[0].schedule?.stopIfMissing ?? job.stopIfMissing;
  const source = backup ? sourcePath(backup.runs[0].source as Job["source"]) : undefined;
  if (stopIfMissing && source !== undefined && await isMissing(source)) {
    await log({ result: "stopped", message: `the source is gone, so the job stopped: ${source}` });
    messages.note(`job ${job.id} stopped: the source is gone: ${source}`);
    return;
  }

  const next = nextRun(job, config, backup, now);
  let nextAtJob: number | undefined;
  let requeueError: string | undefined;
  if (next) {
    using _chain = await lockJobChain(job.id);
    // `schedule` may have queued the job anew while this run started: that is its next run.
    const { waiting } = await runsOf(job.id).catch(() => ({ waiting: [] }));
    if (waiting.length > 0) {
      nextAtJob = waiting[0].atJob;
    } else {
      ({ nextAtJob, requeueError } = await tryQueueJob(next));
      if (nextAtJob !== undefined && await cancelled()) {
        await removeJob(nextAtJob);
        return await log({
          result: "cancelled",
          message: "the job was unscheduled while it started",
        });
      }
    }
  }
  const unqueued = requeueError ? `; and the next run could not be queued: ${requeueError}` : "";
  if (invalid) {
    const message = [invalid.message, ...invalid.more].join("; ") + unqueued;
    await log({ result: "failed", message, nextAtJob });
    throw new RunError(
      `job ${job.id}: ${message}`,
      "fix the file; the job runs again as scheduled",
    );
  }

  // A good run prints nothing, since at(1) mails what a job prints; warnings are printed.
  const outcome = await runPlannedBackup(config!, backup!, false, new Messages(true));
  const said = outcome.paths.join("; ");
  await log({
    result: outcome.error ? "failed" : outcome.summary.startsWith("unchanged") ? "unchanged" : "ok",
    message: (outcome.error ? `${outcome.error.message}; ` : "") +
      (outcome.error ? said : `${outcome.summary}: ${said}`) +
      outcome.warnings.map((w) => `; warning: ${w}`).join("") + unqueued,
    path: outcome.paths[0],
    nextAtJob,
  });
  if (outcome.error) {
    throw new RunError(`job ${job.id}: ${name}: ${outcome.error.message}${unqueued}`);
  }
  if (requeueError) {
    throw new RunError(`job ${job.id}: the next run could not be queued: ${requeueError}`);
  }
}

/** The run to queue next: by the file's schedule now, when it changed since the job was queued. */
function nextRun(
  job: Job,
  config: Config | undefined,
  backup: PlannedBackup | undefined,
  now: Date,
): Job | undefined {
  const next = successor(job, now);
  if (!next || !config || !backup) return next;
  const fresh = configJob(config, backup, now);
  return sameSchedule(fresh, job)
    ? { ...next, ...snapshot(fresh) }
    : { ...fresh, runsLeft: next.runsLeft };
}

/** What the job shows of the file's settings, as they are now. */
function snapshot(job: Job): Partial<Job> {
  const { name, source, dest, retention, compression, stopIfMissing } = job;
  return { name, source, dest, retention, compression, stopIfMissing };
}

/**
 * Where a database was reached when the job was scheduled (PGHOST, MYSQL_HOST
 * and the like, never a password), as a scheduled backup keeps it: at(1)
 * keeps none of these, and the file names only the database. What the job's
 * own environment sets wins.
 */
function restoreConnectionEnvironment(job: Job): void {
  if (!("env" in job.source)) return;
  for (const [name, value] of Object.entries(job.source.env)) {
    if (Deno.env.get(name) === undefined) Deno.env.set(name, value);
  }
}
