/**
 * `tinybackup config validate|show|init [--config FILE]`. None of them
 * changes a file that exists: init writes a new one only.
 */
import { dirname } from "node:path";
import { defaultConfigPath, loadConfig, type PlannedBackup } from "../config/load_config.ts";
import { UsageError } from "../errors.ts";
import { CALENDAR_RULES, formatCalendarSpan, keepsAll } from "../backup/retention.ts";
import type { BackupArgs } from "./args.ts";
import { parseConfigArgs } from "./args.ts";
import { EXAMPLE_CONFIG } from "../config/example_config.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printPath, printResult } from "./output.ts";

export async function configCommand(argv: string[]): Promise<void> {
  const args = parseConfigArgs(argv);
  if (args.help) return printHelp(helpFor("config"));
  switch (args.action!) {
    case "validate": {
      const config = await loadConfig(args.config);
      const names = config.backups.map((b) => b.name).join(", ");
      new Messages().note(`${config.path} is valid: ${config.backups.length} backup(s): ${names}`);
      return;
    }
    case "show": {
      const config = await loadConfig(args.config);
      const { stringify } = await import("smol-toml");
      printResult(`# ${config.path}, as each backup runs: [defaults] applied, \${VAR} filled in`);
      for (const backup of config.backups) {
        printResult("");
        for (
          const line of stringify({ backup: { [backup.name]: effective(backup) } }).split("\n")
        ) {
          if (line !== "") printResult(line);
        }
      }
      return;
    }
    case "init":
      return await init(args.config);
  }
}

/** Writes the example file, never over an existing one, private from the first instant. */
async function init(given: string | undefined): Promise<void> {
  const path = given ?? defaultConfigPath((name) => Deno.env.get(name));
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await Deno.writeTextFile(path, EXAMPLE_CONFIG, { createNew: true, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(
        `${path} exists already; tinybackup never rewrites your config file`,
        "edit it, or pass --config FILE for a new one",
      );
    }
    throw error;
  }
  printPath(path);
  new Messages().note(`wrote an example config; edit it, then run 'tinybackup config validate'`);
}

/** One backup's settings as the file would spell them, every default filled in. */
function effective(backup: PlannedBackup): Record<string, unknown> {
  const args = backup.runs[0];
  return {
    ...sourceKeys(args),
    name: args.name,
    dest: backup.dests.length === 1 ? backup.dests[0] : backup.dests,
    ...(args.sshConfig !== undefined ? { ssh_config: args.sshConfig } : {}),
    compress: args.compression,
    retention: retentionKeys(args),
    ...(args.allowChanging ? { allow_changing: true } : {}),
    ...(args.allowEmpty ? { allow_empty: true } : {}),
    lock_wait: args.lockWaitSeconds,
    ...encryptionKeys(args.encryption),
    ...(args.schedule ? { schedule: scheduleKeys(args.schedule) } : {}),
    ...(backup.ping
      ? {
        [
          "url" in backup.ping
            ? "ping_url"
            : "file" in backup.ping
            ? "ping_url_file"
            : "ping_url_command"
        ]: masked(backup.ping),
      }
      : {}),
    ...(backup.onFailure ? { on_failure: backup.onFailure } : {}),
  };
}

function sourceKeys(args: BackupArgs): Record<string, unknown> {
  const source = args.source!;
  const keys: Record<string, unknown> = {};
  switch (source.kind) {
    case "postgres":
    case "mysql":
      keys[source.kind] = source.database;
      if (source.exclude.length > 0) keys.exclude_db = source.exclude;
      break;
    case "command":
      keys.command = source.command;
      if (source.okExit.length > 0) keys.ok_exit = source.okExit;
      break;
    case "folder":
      keys.folder = source.path;
      if (source.exclude.length > 0) keys.exclude = source.exclude;
      if (source.split) keys.split = true;
      break;
    case "stdin":
      break;
    default:
      keys[source.kind] = source.path;
  }
  if ("ssh" in source && source.ssh) {
    const { destination, port, config } = source.ssh;
    keys.ssh = port === undefined ? destination : `${destination}:${port}`;
    if (config !== undefined) keys.ssh_config = config;
  }
  return keys;
}

/** Who the backups are encrypted to: keys and the files and command that give them, never a secret. */
function encryptionKeys(spec: BackupArgs["encryption"]): Record<string, unknown> {
  if (!spec) return {};
  const one = (paths: string[]) => paths.length === 1 ? paths[0] : paths;
  return {
    ...(spec.recipients.length > 0 ? { recipients: spec.recipients } : {}),
    ...(spec.recipientsFiles.length > 0 ? { recipients_file: one(spec.recipientsFiles) } : {}),
    ...(spec.identityFiles.length > 0 ? { identity_file: one(spec.identityFiles) } : {}),
    ...(spec.passphraseFile ? { passphrase_file: spec.passphraseFile } : {}),
    ...(spec.passphraseCommand ? { passphrase_command: spec.passphraseCommand } : {}),
  };
}

function retentionKeys(args: BackupArgs): Record<string, unknown> {
  const r = args.retention;
  if (keepsAll(r)) return { last: 0 };
  return {
    ...(r.last > 0 ? { last: r.last } : {}),
    ...Object.fromEntries(
      CALENDAR_RULES.filter((rule) => r[rule] > 0).map((rule) => [rule, r[rule]]),
    ),
    ...(r.within ? { within: formatCalendarSpan(r.within) } : {}),
  };
}

function scheduleKeys(schedule: NonNullable<BackupArgs["schedule"]>): Record<string, unknown> {
  return {
    ...(schedule.every ? { every: schedule.every.text } : {}),
    ...(schedule.at ? { at: schedule.at } : {}),
    ...(schedule.time !== undefined ? { time: schedule.time } : {}),
    ...(schedule.runs !== null ? { runs: schedule.runs } : {}),
    ...(schedule.stopIfMissing ? { stop_if_missing: true } : {}),
  };
}

/** A ping URL holds its check's secret in its path: only the scheme and host are shown. */
function masked(ping: NonNullable<PlannedBackup["ping"]>): string {
  if ("file" in ping) return ping.file;
  if ("command" in ping) return ping.command;
  const url = new URL(ping.url);
  return `${url.protocol}//${url.host}/********`;
}
