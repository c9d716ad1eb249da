/** Queueing the job for `tinybackup --file F --dest D --every ... | --time ...`. */
import { removeJob } from "../schedule/at.ts";
import { markCancelled } from "../schedule/cancellation.ts";
import { describeSchedule, newJob } from "../schedule/job.ts";
import { programGone } from "../schedule/job_health.ts";
import { findJobs, type QueuedJob, queueJob } from "../schedule/queue.ts";
import { sameJob } from "../schedule/job.ts";
import { selfCommand } from "../schedule/self_command.ts";
import type { Compression } from "../backup/naming.ts";
import type { Retention } from "../backup/retention.ts";
import type { SourceSpec } from "../sources/source_spec.ts";
import type { ScheduleArgs } from "./args.ts";
import type { EncryptionSpec } from "../backup/backup_encryption.ts";
import { localTime } from "./format.ts";
import type { Messages } from "./output.ts";

export interface ScheduleRequest {
  name: string;
  /** What the job backs up, paths absolute. */
  source: SourceSpec;
  /** Absolute path of the destination, or its sftp:// URL. */
  dest: string;
  /** For an sftp:// destination: the ssh config file (ssh -F), absolute. */
  destSshConfig?: string;
  retention: Retention;
  compression: Compression;
  encryption?: EncryptionSpec;
  schedule: ScheduleArgs;
}

/**
 * Queues the job, unless the same job (same source, destination, name and
 * schedule) is queued already: then that one is reported and kept.
 */
export async function scheduleJob(
  request: ScheduleRequest,
  messages: Messages,
): Promise<QueuedJob> {
  const { schedule } = request;
  const job = newJob({
    ...request,
    every: schedule.every,
    at: schedule.at,
    time: schedule.time,
    runs: schedule.runs,
    stopIfMissing: schedule.stopIfMissing,
    command: selfCommand(),
  }, new Date());
  const existing = (await findJobs()).find((queued) => sameJob(queued.job, job));
  if (existing && await programGone(existing.job)) {
    // The same job, but its program moved or went: this one replaces it.
    await markCancelled(existing.job.id);
    if (!existing.running) await removeJob(existing.atJob);
    messages.note(`replacing job ${existing.job.id}, whose program is gone`);
  } else if (existing) {
    messages.warning(
      `already scheduled as job ${existing.job.id} (${
        describeSchedule(job.schedule)
      }); not adding another`,
    );
    return existing;
  }
  const { atJob, next } = await queueJob(job);
  messages.note(
    `scheduled job ${job.id}: ${describeSchedule(job.schedule)}; next run ${
      next ? localTime(next) : "as at(1) decides"
    }`,
  );
  return { job, atJob, next, running: false };
}
