/** `tinybackup --file F --dest D` and `--stdin`: make one backup now. */
import { backupFileName } from "../backup/naming.ts";
import { backupsToRemove, type Dated, nextGeneration } from "../backup/retention.ts";
import { DEFAULT_RETRY_DELAYS, runBackup, seriesBackups } from "../backup/run_backup.ts";
import { describeSource } from "../backup/metadata.ts";
import { openSource } from "../sources/open_source.ts";
import type { Source } from "../sources/source.ts";
import type { Store } from "../stores/store.ts";
import { type BackupArgs, parseBackupArgs } from "./args.ts";
import { openDestination } from "./destination.ts";
import { backupJson, humanSize } from "./format.ts";
import { helpFor } from "./help.ts";
import { jobJson } from "./jobs_command.ts";
import { scheduleJob } from "./schedule_job.ts";
import type { QueuedJob } from "../schedule/queue.ts";
import { Messages, printHelp, printJson, printPath, printResult } from "./output.ts";
import { progressFor } from "./progress.ts";

export async function backupCommand(argv: string[]): Promise<void> {
  const args = parseBackupArgs(argv);
  if (args.help) return printHelp(helpFor("backup"));
  const messages = new Messages(args.quiet, args.verbose);
  // The source is checked first; its scratch file is made only once the run reads it.
  const { source, spec } = await openSource(args.source!, () => store.scratchFile());
  const store = await openDestination(args.dest, false);
  if (args.dryRun) return dryRun(args, source, store, messages);
  let queued: QueuedJob | undefined;
  if (args.schedule) {
    // Bad input must stop the run before anything is queued.
    await seriesBackups(store, args.name, source);
    queued = await scheduleJob({
      name: args.name,
      // stdin cannot be scheduled (see parseBackupArgs): every other source has settings.
      source: spec!,
      dest: store.location,
      keep: args.keep,
      compression: args.compression,
      schedule: args.schedule,
    }, messages);
    if (args.schedule.scheduleOnly) {
      return args.json ? printJson(jobJson(queued)) : printResult(queued.job.id);
    }
  }

  const progress = progressFor(source.expectedSize);
  const started = performance.now();
  const result = await runBackup({
    source,
    name: args.name,
    store,
    compression: args.compression,
    keep: args.keep,
    force: args.force,
    allowChanging: args.allowChanging,
    allowEmpty: args.allowEmpty,
    retryDelays: DEFAULT_RETRY_DELAYS,
    lockWaitSeconds: args.lockWaitSeconds,
    onProgress: progress?.update,
  }).finally(() => progress?.clear());

  const { backup, unchanged, removed, warnings } = result;
  const m = backup.metadata;
  for (const warning of warnings) messages.warning(warning);
  if (unchanged) {
    messages.note(
      `unchanged since the backup of ${m.time}; no new backup made (pass --force to make one anyway)`,
    );
  } else {
    messages.detail(
      `backed up ${humanSize(m.size)} to ${humanSize(m.storedSize)} in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
  }
  if (m.changedWhileRead && !unchanged) {
    messages.warning("the source kept changing while it was read; this backup may be inconsistent");
  }
  for (const old of removed) messages.detail(`removed ${old.path}`);
  if (args.json) {
    printJson({
      ...backupJson(backup),
      unchanged,
      removed: removed.map((b) => b.path),
      ...(queued ? { job: jobJson(queued) } : {}),
    });
  } else {
    printPath(backup.path);
  }
}

/** Says what a run would do, without reading the source or writing anything. */
async function dryRun(args: BackupArgs, source: Source, store: Store, messages: Messages) {
  const series = await seriesBackups(store, args.name, source);
  const time = new Date();
  const file = backupFileName(args.name, time, 1, args.compression);
  // Its content is unknown without reading the source: counted as a new version.
  const planned: Dated = {
    metadata: { file, time: time.toISOString(), generation: nextGeneration(series), sha256: "" },
  };
  const removed = backupsToRemove([...series, planned], args.keep)
    .map((b) => store.pathOf(b.metadata.file));
  const path = store.pathOf(file);
  messages.note(`dry run: would back up ${describeSource(source.info())} to ${path}`);
  if (args.schedule) {
    const how = args.schedule.time !== undefined
      ? `at '${args.schedule.time}'`
      : `every ${args.schedule.every!.text}${args.schedule.at ? ` at ${args.schedule.at}` : ""}`;
    messages.note(`dry run: would schedule it ${how}`);
  }
  for (const old of removed) messages.note(`dry run: would remove ${old}`);
  if (args.json) {
    printJson({ dryRun: true, path, removed });
  } else {
    printPath(path);
  }
}
