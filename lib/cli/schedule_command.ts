/**
 * `tinybackup schedule [--config FILE]`: one at(1) job per backup of the file
 * that has a schedule, each with an id derived from the file and the
 * backup's name, so scheduling the file again finds its jobs: the same
 * schedule is kept, a changed one replaced, and the jobs of backups gone
 * from the file (or no longer scheduled) removed.
 */
import { type Config, loadConfig, type PlannedBackup } from "../config/load_config.ts";
import { UsageError } from "../errors.ts";
import { jobEnvironment, removeJob } from "../schedule/at.ts";
import { clearCancelled, markCancelled } from "../schedule/cancellation.ts";
import { configJobId, describeSchedule, sameSchedule } from "../schedule/job.ts";
import { configJob } from "./config_job.ts";
import { programGone } from "../schedule/job_health.ts";
import { queueJob, QueueReader } from "../schedule/queue.ts";
import { lockJobChain, runsOf } from "../schedule/chain_lock.ts";
import { isS3Url } from "../stores/s3/s3_url.ts";
import { parseScheduleArgs } from "./args.ts";
import { localTime } from "./format.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printResult } from "./output.ts";

export async function scheduleCommand(argv: string[]): Promise<void> {
  const args = parseScheduleArgs(argv);
  if (args.help) return printHelp(helpFor("schedule"));
  const config = await loadForJobs(args.config);
  const messages = new Messages();
  const scheduled = config.backups.filter((b) => b.runs[0].schedule);
  await checkCredentials(scheduled, messages);
  const queue = new QueueReader();
  const queued = (await queue.findJobs()).filter((q) => q.job.config?.path === config.path);
  const now = new Date();
  const dry = args.dryRun ? "dry run: would " : "";
  for (const backup of scheduled) {
    const job = configJob(config, backup, now);
    // Under the chain's lock, a run of the job that is starting now either
    // queued its successor already (seen here) or will see what is queued here.
    using _chain = await lockJobChain(job.id);
    const { waiting } = await runsOf(job.id, queue);
    const [existing, ...duplicates] = waiting;
    const keep = existing && sameSchedule(existing.job, job) && !(await programGone(existing.job));
    const what = keep ? "keep" : existing ? "replace" : "add";
    if (args.dryRun) {
      messages.note(
        `${dry}${what} ${backup.name}: job ${job.id}, ${describeSchedule(job.schedule)}`,
      );
      printResult(job.id);
      continue;
    }
    // A job unscheduled earlier (its backup was gone from the file) is wanted again.
    await clearCancelled(job.id);
    for (const extra of duplicates) await removeJob(extra.atJob);
    if (keep) {
      messages.note(`keep ${backup.name}: job ${job.id}, ${describeSchedule(job.schedule)}`);
      printResult(job.id);
      continue;
    }
    if (existing) await removeJob(existing.atJob);
    const { next } = await queueJob(job);
    messages.note(
      `${existing ? "rescheduled" : "scheduled"} ${backup.name}: job ${job.id}, ${
        describeSchedule(job.schedule)
      }; next run ${next ? localTime(next) : "as at(1) decides"}`,
    );
    printResult(job.id);
  }
  const wanted = new Set(scheduled.map((b) => configJobId(config.path, b.name)));
  for (const q of queued) {
    if (wanted.has(q.job.id)) continue;
    messages.note(
      `${dry}remove job ${q.job.id}: '${q.job.config!.backup}' is no longer scheduled in the file`,
    );
    if (args.dryRun) continue;
    await markCancelled(q.job.id);
    if (!q.running) await removeJob(q.atJob);
  }
  if (scheduled.length === 0) messages.note(`${config.path} schedules no backup`);
}

/**
 * The file as scheduled runs will read it: with only the environment at(1)
 * keeps. A variable the file reads that they would see otherwise (unset,
 * so a default would silently apply, or set to something else) is refused now.
 */
async function loadForJobs(path: string | undefined): Promise<Config> {
  const { path: file } = await loadConfig(path);
  const read = new Set<string>();
  const config = await loadConfig(file, (name) => {
    read.add(name);
    return Deno.env.get(name);
  });
  const env = jobEnvironment();
  const differing = [...read].filter((name) => env[name] !== Deno.env.get(name)).sort();
  if (differing.length === 0) return config;
  throw new UsageError(
    `scheduled runs would not read ${file} as this run does: it uses ${
      differing.map((name) => `\${${name}}`).join(", ")
    }, which ${
      differing.length === 1 ? "a scheduled run does" : "scheduled runs do"
    } not get from this environment`,
    `jobs keep only ${
      Object.keys(env).join(", ")
    } of the environment (at(1) would store the rest, secrets too); write the value in the file, or in a file named by a *_file key`,
  );
}

/** Credentials that scheduled runs would lack, as a single backup's --every checks them. */
async function checkCredentials(scheduled: PlannedBackup[], messages: Messages): Promise<void> {
  const runs = scheduled.flatMap((b) => b.runs);
  if (runs.some((r) => r.source?.kind === "postgres") && Deno.env.get("PGPASSWORD") !== undefined) {
    messages.warning(
      "PGPASSWORD is not kept in scheduled jobs (at(1) would keep it in its spool); put the password in ~/.pgpass, or the jobs' runs will not log in",
    );
  }
  if (runs.some((r) => r.source?.kind === "mysql") && Deno.env.get("MYSQL_PWD") !== undefined) {
    messages.warning(
      "MYSQL_PWD is not kept in scheduled jobs (at(1) would keep it in its spool); put the password in ~/.my.cnf, or the jobs' runs will not log in",
    );
  }
  if (runs.some((r) => isS3Url(r.dest))) {
    const { checkKeysForJobs } = await import("../stores/s3/aws_files.ts");
    await checkKeysForJobs(jobEnvironment());
  }
}
