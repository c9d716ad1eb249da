/** `tinybackup jobs`: every scheduled tinybackup job, with its next and last run. */
import { jobProblems } from "../schedule/job_health.ts";
import { describeSchedule } from "../schedule/job.ts";
import { describeRetention, hasCalendarRules } from "../backup/retention.ts";
import { describeSpec, sourcePath } from "../sources/source_spec.ts";
import { findJobs, type QueuedJob } from "../schedule/queue.ts";
import { readRuns, type RunRecord } from "../schedule/run_log.ts";
import { parseJobsArgs } from "./args.ts";
import { localTime } from "./format.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printJson, printResult } from "./output.ts";

/** A queued job as `jobs --json` (and `--json` when scheduling) describes it. */
export function jobJson(queued: QueuedJob, lastRun?: RunRecord, problems: string[] = []) {
  const { job } = queued;
  return {
    id: job.id,
    name: job.name,
    file: sourcePath(job.source) ?? null,
    source: job.source,
    dest: job.dest,
    schedule: describeSchedule(job.schedule),
    next: queued.next?.toISOString() ?? null,
    atJob: queued.atJob,
    running: queued.running,
    runsLeft: job.runsLeft,
    stopIfMissing: job.stopIfMissing,
    // "the N newest", as --keep N says; null when calendar rules keep others too.
    keep: hasCalendarRules(job.retention) ? null : job.retention.last,
    retention: describeRetention(job.retention),
    compression: job.compression,
    config: job.config ?? null,
    lastRun: lastRun
      ? { time: lastRun.time, result: lastRun.result, message: lastRun.message }
      : null,
    problems,
  };
}

export async function jobsCommand(argv: string[]): Promise<void> {
  const args = parseJobsArgs(argv);
  if (args.help) return printHelp(helpFor("jobs"));
  const queued = await findJobs();
  const lastRuns = new Map<string, RunRecord>();
  for (const record of await readRuns()) lastRuns.set(record.id, record);
  const described = [];
  for (const q of queued) {
    described.push({
      ...jobJson(q, lastRuns.get(q.job.id), await jobProblems(q.job)),
      sourceText: describeSpec(q.job.source),
    });
  }
  if (args.json) return printJson(described.map(({ sourceText: _, ...json }) => json));
  for (const job of described) {
    const next = job.running ? "running now" : job.next ? localTime(new Date(job.next)) : "?";
    const last = job.lastRun
      ? `${job.lastRun.result} ${localTime(new Date(job.lastRun.time))}`
      : "never run";
    printResult(
      `${job.id}  ${job.schedule}  next ${next}  last ${last}  ${job.sourceText} -> ${job.dest}${
        job.config ? `  (backup '${job.config.backup}' of ${job.config.path})` : ""
      }`,
    );
    for (const problem of job.problems) printResult(`  problem: ${problem}`);
  }
  if (described.length === 0) new Messages().note("no scheduled jobs");
}
