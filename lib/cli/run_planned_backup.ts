/**
 * One backup of a config file, run now: under its lock, to each of its
 * destinations, with its monitoring pings and on_failure command. Shared by
 * `run` and the scheduled jobs of `schedule`.
 */
import type { Config, PlannedBackup } from "../config/load_config.ts";
import { lockBackup } from "../config/backup_lock.ts";
import { runOnFailure } from "../config/on_failure.ts";
import { sendPing } from "../config/ping.ts";
import { RunError } from "../errors.ts";
import { backUpToEach } from "./back_up_to_each.ts";
import { failureOf } from "./back_up_parts.ts";
import type { Messages } from "./output.ts";

export interface PlannedOutcome {
  /** The backups made or found unchanged, each destination's. */
  paths: string[];
  /** In words: `backed up to 2 destinations`, `unchanged`. */
  summary: string;
  /** Why the backup failed, naming each destination that failed. */
  error?: Error;
  /** What the user should know although it did not fail the backup. */
  warnings: string[];
}

export async function runPlannedBackup(
  config: Config,
  backup: PlannedBackup,
  force: boolean,
  messages: Messages,
): Promise<PlannedOutcome> {
  const warnings: string[] = [];
  const warn = (text: string) => {
    warnings.push(text);
    messages.warning(`${backup.name}: ${text}`);
  };
  const ping = async (kind: "start" | "success" | "fail", body?: string) => {
    if (!backup.ping) return;
    const problem = await sendPing(backup.ping, kind, body);
    if (problem) warn(problem);
  };
  const outcome = await attempt(config, backup, force, warn, () => ping("start"));
  if (outcome.error) {
    await ping("fail", outcome.error.message);
    if (backup.onFailure) {
      const problem = await runOnFailure(backup.onFailure, backup.name, outcome.error.message);
      if (problem) warn(problem);
    }
  } else {
    await ping("success");
  }
  return { ...outcome, warnings: [...warnings, ...outcome.warnings] };
}

async function attempt(
  config: Config,
  backup: PlannedBackup,
  force: boolean,
  warn: (text: string) => void,
  started: () => Promise<void>,
): Promise<PlannedOutcome> {
  const lockWait = backup.runs[0].lockWaitSeconds;
  let lock: Disposable;
  try {
    lock = await lockBackup(config.path, backup.name, lockWait);
  } catch (error) {
    return { paths: [], summary: "", error: error as Error, warnings: [] };
  }
  using _lock = lock;
  await started();
  let results;
  try {
    results = await backUpToEach(backup.runs, force);
  } catch (error) {
    // Bad input, found before anything was written.
    return { paths: [], summary: "", error: error as Error, warnings: [] };
  }
  const paths: string[] = [];
  const failures: { dest: string; error: Error }[] = [];
  let unchanged = true;
  for (const { dest, outcomes, error } of results) {
    const failure = error ?? (outcomes ? failureOf(outcomes) : undefined);
    if (failure) failures.push({ dest, error: failure });
    for (const { part, result } of outcomes ?? []) {
      if (!result) continue;
      paths.push(result.backup.path);
      unchanged &&= result.unchanged;
      const of = outcomes!.length > 1 ? `${part.series}: ` : "";
      for (const warning of result.warnings) warn(`${of}${warning}`);
    }
  }
  if (failures.length > 0) {
    const message = failures.map(({ dest, error }) =>
      results.length > 1 ? `${dest}: ${error.message}` : error.message
    ).join("; ");
    const error = new RunError(
      failures.length < results.length
        ? `${message} (the other destinations were backed up)`
        : message,
      failures.length === 1 ? (failures[0].error as RunError).hint : undefined,
    );
    return { paths, summary: "", error, warnings: [] };
  }
  const where = results.length === 1 ? "" : ` to ${results.length} destinations`;
  return {
    paths,
    summary: unchanged ? `unchanged${where.replace(" to ", " in ")}` : `backed up${where}`,
    warnings: [],
  };
}
