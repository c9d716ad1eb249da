/** The at(1) job of one scheduled backup of a config file. */
import type { Config, PlannedBackup } from "../config/load_config.ts";
import { configJobId, type Job, newJob } from "../schedule/job.ts";
import { selfCommand } from "../schedule/self_command.ts";
import type { SourceSpec } from "../sources/source_spec.ts";

/** The job for `backup`: the settings of its first destination, for jobs and doctor to show. */
export function configJob(config: Config, backup: PlannedBackup, now: Date): Job {
  const args = backup.runs[0];
  const schedule = args.schedule!;
  return newJob(
    {
      name: args.name,
      source: args.source as SourceSpec,
      dest: args.dest,
      ...(args.sshConfig !== undefined ? { destSshConfig: args.sshConfig } : {}),
      retention: args.retention,
      compression: args.compression,
      every: schedule.every,
      at: schedule.at,
      time: schedule.time,
      runs: schedule.runs,
      stopIfMissing: schedule.stopIfMissing,
      command: selfCommand(),
      config: { path: config.path, backup: backup.name },
    },
    now,
    configJobId(config.path, backup.name),
  );
}
