/** `tinybackup SOURCE --dest D`: make one backup now (one per part), and maybe schedule it. */
import { backupFileName } from "../backup/naming.ts";
import { describeSource } from "../backup/metadata.ts";
import { backupsToRemove, type Dated, nextGeneration } from "../backup/retention.ts";
import { type BackupResult, DEFAULT_RETRY_DELAYS, seriesBackups } from "../backup/run_backup.ts";
import { openSource } from "../sources/open_source.ts";
import type { Part } from "../sources/part.ts";
import type { Store } from "../stores/store.ts";
import { type BackupArgs, parseBackupArgs } from "./args.ts";
import { backUpParts, failureOf } from "./back_up_parts.ts";
import { openDestination } from "./destination.ts";
import { isS3Url } from "../stores/s3/s3_url.ts";
import { isSftpUrl } from "../stores/sftp/sftp_url.ts";
import { backupJson, humanSize } from "./format.ts";
import { helpFor } from "./help.ts";
import { jobJson } from "./jobs_command.ts";
import { scheduleJob } from "./schedule_job.ts";
import type { QueuedJob } from "../schedule/queue.ts";
import { Messages, printHelp, printJson, printPath, printResult } from "./output.ts";
import { progressFor } from "./progress.ts";
import { resolveEncryption } from "./encryption_keys.ts";

export async function backupCommand(argv: string[]): Promise<void> {
  const args = parseBackupArgs(argv);
  if (args.help) return printHelp(helpFor("backup"));
  const messages = new Messages(args.quiet, args.verbose);
  // The source is checked first; its scratch file is made only once the run reads it.
  const { parts, spec } = await openSource(args.source!, args.name, () => store.scratchFile());
  const store = await openDestination(args.dest, false, args.sshConfig);
  // Bad input must stop the run before anything is queued or written.
  for (const part of parts) await seriesBackups(store, part.series, part.source);
  // Read now, so that a bad key file stops the run before anything is queued.
  const encryption = args.encryption && await resolveEncryption(args.encryption);
  if (args.dryRun) return await dryRun(args, parts, store, messages);
  let queued: QueuedJob | undefined;
  if (args.schedule) {
    if (spec?.kind === "postgres" && Deno.env.get("PGPASSWORD") !== undefined) {
      messages.warning(
        "PGPASSWORD is not kept in the scheduled job (at(1) would keep it in its spool); put the password in ~/.pgpass, or the job's runs will not log in",
      );
    }
    if (spec?.kind === "mysql" && Deno.env.get("MYSQL_PWD") !== undefined) {
      messages.warning(
        "MYSQL_PWD is not kept in the scheduled job (at(1) would keep it in its spool); put the password in ~/.my.cnf, or the job's runs will not log in",
      );
    }
    if (isS3Url(args.dest)) {
      const [{ checkKeysForJobs }, { jobEnvironment }] = await Promise.all([
        import("../stores/s3/aws_files.ts"),
        import("../schedule/at.ts"),
      ]);
      await checkKeysForJobs(jobEnvironment());
    }
    queued = await scheduleJob({
      name: args.name,
      // stdin cannot be scheduled (see parseBackupArgs): every other source has settings.
      source: spec!,
      dest: store.location,
      ...(args.sshConfig !== undefined && isSftpUrl(args.dest)
        ? { destSshConfig: args.sshConfig }
        : {}),
      retention: args.retention,
      compression: args.compression,
      schedule: args.schedule,
      ...(args.encryption ? { encryption: args.encryption } : {}),
    }, messages);
    if (args.schedule.scheduleOnly) {
      return args.json ? printJson(jobJson(queued)) : printResult(queued.job.id);
    }
  }

  const single = parts.length === 1;
  const progress = single ? progressFor(parts[0].source.expectedSize) : undefined;
  const started = performance.now();
  const outcomes = await backUpParts(parts, {
    store,
    compression: args.compression,
    retention: args.retention,
    force: args.force,
    allowChanging: args.allowChanging,
    allowEmpty: args.allowEmpty,
    retryDelays: DEFAULT_RETRY_DELAYS,
    lockWaitSeconds: args.lockWaitSeconds,
    onProgress: progress?.update,
    encryption,
  }).finally(() => progress?.clear());

  for (const { part, result } of outcomes) {
    if (result) tellAbout(result, single ? undefined : part.series, started, messages);
  }
  const json = outcomes.flatMap(({ result }) =>
    result
      ? [{
        ...backupJson(result.backup),
        unchanged: result.unchanged,
        removed: result.removed.map((b) => b.path),
      }]
      : []
  );
  if (args.json && single) {
    printJson({ ...json[0], ...(queued ? { job: jobJson(queued) } : {}) });
  } else if (args.json) {
    const failed = outcomes.flatMap(({ part, error }) =>
      error ? [{ name: part.series, error: error.message }] : []
    );
    printJson({ backups: json, failed, ...(queued ? { job: jobJson(queued) } : {}) });
  } else {
    for (const { result } of outcomes) if (result) printPath(result.backup.path);
  }
  const failure = failureOf(outcomes);
  if (failure) throw failure;
}

/** What a person wants to know of one part's run, on stderr. */
function tellAbout(
  result: BackupResult,
  series: string | undefined,
  started: number,
  messages: Messages,
): void {
  const { backup, unchanged, removed, warnings } = result;
  const m = backup.metadata;
  const of = series === undefined ? "" : `${series}: `;
  for (const warning of warnings) messages.warning(of + warning);
  if (unchanged) {
    messages.note(
      `${of}unchanged since the backup of ${m.time}; no new backup made (pass --force to make one anyway)`,
    );
  } else {
    messages.detail(
      `${of}backed up ${humanSize(m.size)} to ${humanSize(m.storedSize)} in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
  }
  if (m.changedWhileRead && !unchanged) {
    messages.warning(
      `${of}the source kept changing while it was read; this backup may be inconsistent`,
    );
  }
  for (const old of removed) messages.detail(`${of}removed ${old.path}`);
}

/** Says what a run would do, without reading the source or writing anything. */
export async function dryRun(args: BackupArgs, parts: Part[], store: Store, messages: Messages) {
  const time = new Date();
  const planned = [];
  for (const { series: name, source } of parts) {
    const series = await seriesBackups(store, name, source);
    const file = backupFileName(name, time, 1, args.compression, args.encryption !== undefined);
    // Its content is unknown without reading the source: counted as a new version.
    const next: Dated = {
      metadata: { file, time: time.toISOString(), generation: nextGeneration(series), sha256: "" },
    };
    const removed = backupsToRemove([...series, next], args.retention, time)
      .map((b) => store.pathOf(b.metadata.file));
    const path = store.pathOf(file);
    messages.note(`dry run: would back up ${describeSource(source.info())} to ${path}`);
    planned.push({ path, removed });
  }
  if (args.schedule) {
    const how = args.schedule.time !== undefined
      ? `at '${args.schedule.time}'`
      : `every ${args.schedule.every!.text}${args.schedule.at ? ` at ${args.schedule.at}` : ""}`;
    messages.note(`dry run: would schedule it ${how}`);
  }
  for (const old of planned.flatMap((p) => p.removed)) {
    messages.note(`dry run: would remove ${old}`);
  }
  if (args.json && planned.length === 1) {
    printJson({ dryRun: true, ...planned[0] });
  } else if (args.json) {
    printJson({ dryRun: true, backups: planned });
  } else {
    for (const { path } of planned) printPath(path);
  }
}
