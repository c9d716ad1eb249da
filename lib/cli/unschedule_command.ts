/** `tinybackup unschedule ID... | --file F --dest D | --name N --dest D | --all`: remove scheduled jobs. */
import { RunError } from "../errors.ts";
import { kernelPath } from "../io/kernel_path.ts";
import { removeJob } from "../schedule/at.ts";
import { markCancelled } from "../schedule/cancellation.ts";
import type { Job } from "../schedule/job.ts";
import { findJobs } from "../schedule/queue.ts";
import { sourcePath } from "../sources/source_spec.ts";
import { runningIds } from "../schedule/running.ts";
import { parseUnscheduleArgs, type UnscheduleArgs } from "./args.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printResult } from "./output.ts";

const JOB_ID = /^[0-9a-f]{8}$/;

/**
 * Marks come first, then a fresh look at the queue: a run that starts
 * meanwhile either queues its successor before that look (and it is removed
 * here) or after it (and then finds the mark and removes its successor).
 */
export async function unscheduleCommand(argv: string[]): Promise<void> {
  const args = parseUnscheduleArgs(argv);
  if (args.help) return printHelp(helpFor("unschedule"));
  const ids = args.ids.length > 0
    ? args.ids.filter((id) => JOB_ID.test(id))
    : await selectedIds(args);
  if (!args.dryRun) { for (const id of ids) await markCancelled(id); }
  const queued = await findJobs();
  const known = new Set([...queued.map((q) => q.job.id), ...await runningIds()]);
  const found = [...new Set(ids)].filter((id) => known.has(id));
  if (!args.dryRun) {
    // A running one is stopped by its mark: it checks before queueing again.
    for (const q of queued) if (found.includes(q.job.id) && !q.running) await removeJob(q.atJob);
  }
  for (const id of found) printResult(id);
  const unknown = args.ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new RunError(
      `no scheduled job with id ${unknown.join(", ")}`,
      "see the ids with 'tinybackup jobs'",
    );
  }
  const messages = new Messages();
  if (found.length === 0) messages.note("no scheduled jobs");
  else if (args.dryRun) messages.note(`dry run: would unschedule ${found.length} job(s)`);
}

/** The ids of the jobs that --all, --file/--dest or --name/--dest select. */
async function selectedIds(args: UnscheduleArgs): Promise<string[]> {
  if (args.all) return (await findJobs()).map((q) => q.job.id);
  // Resolved as a backup resolves them, to match its job; bad ones fail before at is asked.
  const dest = await kernelPath(args.dest!);
  const file = args.file === undefined ? undefined : await kernelPath(args.file);
  const selects = (job: Job) =>
    job.dest === dest &&
    (file === undefined ? job.name === args.name : sourcePath(job.source) === file);
  const ids = (await findJobs()).filter((q) => selects(q.job)).map((q) => q.job.id);
  if (ids.length === 0) {
    const what = file ?? `the series '${args.name}'`;
    throw new RunError(`no job backs up ${what} to ${dest}`, "see 'tinybackup jobs'");
  }
  return ids;
}
