/** `tinybackup unschedule ID... | --file F --dest D | --all`: remove scheduled jobs. */
import { resolve } from "node:path";
import { RunError } from "../errors.ts";
import { removeJob } from "../schedule/at.ts";
import { markCancelled } from "../schedule/cancellation.ts";
import { findJobs } from "../schedule/queue.ts";
import { parseUnscheduleArgs, type UnscheduleArgs } from "./args.ts";
import { helpFor } from "./help.ts";
import { Messages, printResult } from "./output.ts";

export async function unscheduleCommand(argv: string[]): Promise<void> {
  const args = parseUnscheduleArgs(argv);
  if (args.help) return printResult(helpFor("unschedule"));
  const ids = await selectedIds(args);
  if (!args.dryRun) {
    // Mark first, then look again: a run that starts meanwhile either queues
    // its successor before this second look (and we remove it), or after it,
    // and then finds the mark and removes the successor itself.
    for (const id of ids) await markCancelled(id);
    for (const queued of await findJobs()) {
      if (ids.includes(queued.job.id)) await removeJob(queued.atJob);
    }
  }
  for (const id of ids) printResult(id);
  const messages = new Messages();
  if (ids.length === 0) messages.note("no scheduled jobs");
  else if (args.dryRun) messages.note(`dry run: would unschedule ${ids.length} job(s)`);
}

/** The ids of the jobs the arguments name; fails on an id that is not scheduled. */
async function selectedIds(args: UnscheduleArgs): Promise<string[]> {
  const queued = await findJobs();
  if (args.all) return [...new Set(queued.map((q) => q.job.id))];
  if (args.file !== undefined) {
    const [file, dest] = [resolve(args.file), resolve(args.dest!)];
    const ids = queued.filter((q) => q.job.file === file && q.job.dest === dest).map((q) =>
      q.job.id
    );
    if (ids.length === 0) {
      throw new RunError(`no job backs up ${file} to ${dest}`, "see 'tinybackup jobs'");
    }
    return [...new Set(ids)];
  }
  const unknown = args.ids.filter((id) => !queued.some((q) => q.job.id === id));
  if (unknown.length > 0) {
    throw new RunError(
      `no scheduled job with id ${unknown.join(", ")}`,
      "see the ids with 'tinybackup jobs'",
    );
  }
  return [...new Set(args.ids)];
}
