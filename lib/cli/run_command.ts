/**
 * `tinybackup run [--config FILE] [NAME...]`: every backup of the config
 * file, or the named ones, one after another, each to all its destinations,
 * with a summary line per backup. Each backup holds its own lock for its
 * whole run, pings its monitor and runs its on_failure command.
 */
import { type Config, loadConfig, type PlannedBackup } from "../config/load_config.ts";
import { RunError, UsageError } from "../errors.ts";
import { parseRunArgs } from "./args.ts";
import { runPlannedBackup } from "./run_planned_backup.ts";
import { dryRun } from "./backup_command.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printPath } from "./output.ts";
import { openSource } from "../sources/open_source.ts";
import { openDestination } from "./destination.ts";
import { seriesBackups } from "../backup/run_backup.ts";

export async function runCommand(argv: string[]): Promise<void> {
  const args = parseRunArgs(argv);
  if (args.help) return printHelp(helpFor("run"));
  const config = await loadConfig(args.config);
  const selected = selectBackups(config, args.names);
  const messages = new Messages(args.quiet, args.verbose);
  if (args.dryRun) return await dryRunAll(selected, messages);
  const failed: { name: string; error: Error }[] = [];
  for (const backup of selected) {
    const outcome = await runPlannedBackup(config, backup, args.force, messages);
    for (const path of outcome.paths) printPath(path);
    if (outcome.error) {
      failed.push({ name: backup.name, error: outcome.error });
      messages.warning(`${backup.name}: failed: ${outcome.error.message}`);
    } else {
      messages.note(`${backup.name}: ${outcome.summary}`);
    }
  }
  if (failed.length === 0) return;
  const message = `${failed.length} of ${selected.length} backups failed: ${
    failed.map((f) => f.name).join(", ")
  }`;
  // Only bad input (a source not found, a destination refused): exit 2, as a single backup would.
  throw failed.every((f) => f.error instanceof UsageError)
    ? new UsageError(
      message,
      failed.length === 1 ? (failed[0].error as UsageError).hint : undefined,
    )
    : new RunError(message, failed.length === 1 ? (failed[0].error as RunError).hint : undefined);
}

/** The named backups of the file, in the file's order; all when none is named. */
export function selectBackups(config: Config, names: string[]): PlannedBackup[] {
  const known = config.backups.map((b) => b.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `no backup named ${unknown.map((n) => `'${n}'`).join(", ")} in ${config.path}`,
      `its backups: ${known.join(", ")}`,
    );
  }
  return names.length === 0 ? config.backups : config.backups.filter((b) => names.includes(b.name));
}

/**
 * What a run would do, for every backup and destination, without reading or
 * writing. Every destination and source is opened, and each series checked,
 * before anything is printed, so a plan that would fail prints nothing.
 */
async function dryRunAll(selected: PlannedBackup[], messages: Messages): Promise<void> {
  const plans = [];
  for (const backup of selected) {
    for (const args of backup.runs) {
      const store = await openDestination(args.dest, false, args.sshConfig);
      const { parts } = await openSource(args.source!, args.name, () => store.scratchFile());
      for (const { series, source } of parts) await seriesBackups(store, series, source);
      plans.push({ args, parts, store });
    }
  }
  // `schedule` queues the jobs; a run only backs up.
  for (const { args, parts, store } of plans) {
    await dryRun({ ...args, schedule: undefined }, parts, store, messages);
  }
}
