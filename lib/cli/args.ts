/**
 * Command-line arguments to typed, checked options. Pure: everything here is
 * decided from the arguments alone; what needs the file system is checked by
 * the commands.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { type Compression, COMPRESSIONS, seriesNameProblem } from "../backup/naming.ts";
import { MAX_MINUTES, MIN_MINUTES, parseDuration } from "../schedule/duration.ts";
import { parseTimeOfDay } from "../schedule/next_run.ts";
import { DEFAULT_LOCK_WAIT_SECONDS } from "../backup/series_lock.ts";
import {
  CALENDAR_RULES,
  keepLast,
  parseCalendarSpan,
  type Retention,
} from "../backup/retention.ts";
import { parseExitCodes, type SourceSpec } from "../sources/source_spec.ts";
import { connectionEnvironment } from "../sources/postgres/postgres_source.ts";
import { mysqlConnectionEnvironment } from "../sources/mysql/mysql_source.ts";
import { isConnectionString } from "../sources/postgres/pg_messages.ts";
import { parseSshDestination, SSH_FAILED } from "../ssh/ssh_host.ts";
import { isSftpUrl } from "../stores/sftp/sftp_url.ts";
import { resolve } from "node:path";
import {
  DECRYPTION_OPTIONS,
  decryptionArgs,
  ENCRYPTION_OPTIONS,
  encryptionArgs,
} from "./encryption_args.ts";
import type { DecryptionSpec, EncryptionSpec } from "../backup/backup_encryption.ts";

/** Options every command knows. */
const COMMON = { help: { type: "boolean", short: "h" } } as const;

/** The retention options: `--keep` (last N versions) and the calendar rules. */
const RETENTION = {
  keep: { type: "string" },
  "keep-hourly": { type: "string" },
  "keep-daily": { type: "string" },
  "keep-weekly": { type: "string" },
  "keep-monthly": { type: "string" },
  "keep-yearly": { type: "string" },
  "keep-within": { type: "string" },
} as const;

const SERIES = {
  dest: { type: "string" },
  file: { type: "string" },
  name: { type: "string" },
  json: { type: "boolean" },
  "ssh-config": { type: "string" },
} as const;

/** What to back up, as given: paths as typed (resolved when the source is opened). */
export type SourceArg = SourceSpec | { kind: "stdin" };

export interface BackupArgs {
  help: boolean;
  /** What to back up; undefined only with --help. */
  source?: SourceArg;
  name: string;
  dest: string;
  /** The ssh config file for --ssh and an sftp:// destination (ssh -F), absolute. */
  sshConfig?: string;
  retention: Retention;
  compression: Compression;
  force: boolean;
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  allowChanging: boolean;
  allowEmpty: boolean;
  /** How long to wait for another run of the series to finish, in seconds. */
  lockWaitSeconds: number;
  /** How to schedule this backup with at(1), if at all. */
  schedule?: ScheduleArgs;
  /** Whom to encrypt the backup for, if anyone. */
  encryption?: EncryptionSpec;
}

export interface ScheduleArgs {
  /** --every, as written and in minutes. */
  every?: { text: string; minutes: number };
  /** --at HH:MM. */
  at?: string;
  /** --time SPEC. */
  time?: string;
  /** Queue the job without backing up now. */
  scheduleOnly: boolean;
  /** Stop after this many scheduled runs; null for no limit. */
  runs: number | null;
  stopIfMissing: boolean;
}

/** The default number of backups kept per series, as in the first seed. */
export const DEFAULT_KEEP = 14;

/** Every option of a backup run (`tinybackup SOURCE --dest D ...`). */
export const BACKUP_OPTIONS = {
  ...SERIES,
  stdin: { type: "boolean" },
  command: { type: "string" },
  "ok-exit": { type: "string" },
  sqlite: { type: "string" },
  postgres: { type: "string" },
  mysql: { type: "string" },
  folder: { type: "string" },
  exclude: { type: "string", multiple: true },
  split: { type: "boolean" },
  "exclude-db": { type: "string", multiple: true },
  ssh: { type: "string" },
  ...RETENTION,
  compress: { type: "string" },
  force: { type: "boolean" },
  "dry-run": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  "allow-changing": { type: "boolean" },
  "allow-empty": { type: "boolean" },
  "lock-wait": { type: "string" },
  every: { type: "string" },
  at: { type: "string" },
  time: { type: "string" },
  "schedule-only": { type: "boolean" },
  runs: { type: "string" },
  "stop-if-missing": { type: "boolean" },
  ...ENCRYPTION_OPTIONS,
} as const;

export function parseBackupArgs(args: string[]): BackupArgs {
  const { values: v } = parse(args, BACKUP_OPTIONS, false);
  const name = v.string("name");
  const base = {
    retention: keepLast(DEFAULT_KEEP),
    compression: "gzip" as Compression,
    force: v.flag("force"),
    dryRun: v.flag("dry-run"),
    json: v.flag("json"),
    quiet: v.flag("quiet"),
    verbose: v.flag("verbose"),
    allowChanging: v.flag("allow-changing"),
    allowEmpty: v.flag("allow-empty"),
    lockWaitSeconds: DEFAULT_LOCK_WAIT_SECONDS,
  };
  if (v.flag("help")) return { ...base, help: true, name: "", dest: "" };
  const source = sourceArg(v);
  const dest = requiredDest(v.string("dest"));
  const path = "path" in source ? source.path : undefined;
  const implied = source.kind === "postgres"
    ? postgresSeriesName(source.database)
    : source.kind === "mysql"
    ? (source.database === "all" ? "mysql" : `${source.database.replace(/^\.+/, "")}.sql`)
    : source.kind === "folder"
    ? `${defaultSeriesName(source.path)}.tar`
    : undefined;
  if (path === undefined && implied === undefined && name === undefined) {
    throw new UsageError(
      `--${source.kind} needs --name`,
      source.kind === "stdin"
        ? "name the series, e.g. --name app.sql"
        : "name the series, e.g. --name app.dump",
    );
  }
  if (base.quiet && base.verbose) {
    throw new UsageError("--quiet and --verbose cannot be used together");
  }
  const compress = v.string("compress");
  const lockWait = v.string("lock-wait");
  const schedule = scheduleArgs(v);
  const encryption = encryptionArgs(v);
  if (schedule && source.kind === "stdin") {
    throw new UsageError(
      "--stdin cannot be scheduled: a scheduled run has nothing piped into it",
      "for a command's output, schedule the command: --command 'CMD' --name NAME",
    );
  }
  if (schedule?.stopIfMissing && (path === undefined || "ssh" in source)) {
    throw new UsageError(
      "--stop-if-missing needs a source that is a file here: --file, --sqlite or --folder",
    );
  }
  return {
    ...base,
    schedule,
    help: false,
    source,
    name: seriesName(name ?? implied ?? defaultSeriesName(path!)),
    dest,
    ...destSshConfig(v, dest),
    retention: retentionArgs(v) ?? keepLast(DEFAULT_KEEP),
    compression: compress === undefined ? "gzip" : parseCompression(compress),
    lockWaitSeconds: lockWait === undefined ? DEFAULT_LOCK_WAIT_SECONDS : parseLockWait(lockWait),
    ...(encryption ? { encryption } : {}),
  };
}

/**
 * The default series name of --postgres: `app.pgdump` for the database app,
 * `postgres` (the prefix of `postgres.app`, `postgres.globals`) for all; a
 * connection string must be named with --name.
 */
function postgresSeriesName(database: string): string | undefined {
  if (database === "all") return "postgres";
  return isConnectionString(database) ? undefined : `${database.replace(/^\.+/, "")}.pgdump`;
}

/** The options that name a source, in the order the help gives them. */
const SOURCE_OPTIONS = [
  "file",
  "folder",
  "sqlite",
  "postgres",
  "mysql",
  "command",
  "stdin",
] as const;

/** The one source the options name, checked, on the host --ssh names. */
function sourceArg(v: Values): SourceArg {
  const source = localSourceArg(v);
  const ssh = v.string("ssh");
  const config = v.string("ssh-config");
  if (ssh === undefined) return source;
  const destination = parseSshDestination(ssh);
  if (!destination) {
    throw new UsageError(
      `--ssh must be a host, as ssh takes it: [user@]host[:port] (got '${ssh}')`,
      "for example: --ssh backup@db1.example.com, or an alias from ~/.ssh/config",
    );
  }
  if (source.kind === "file" || source.kind === "stdin") {
    throw new UsageError(
      `--ssh does not go with --${source.kind}`,
      source.kind === "stdin"
        ? "pipe from ssh yourself, or use --ssh with --command"
        : "back up its folder with --ssh HOST --folder DIR, or its content with --ssh HOST --command 'cat FILE'",
    );
  }
  if (source.kind === "command" && source.okExit.includes(SSH_FAILED)) {
    throw new UsageError(
      `--ok-exit ${SSH_FAILED} does not go with --ssh: ssh exits with ${SSH_FAILED} when the connection fails`,
    );
  }
  const host = { ...destination, ...(config ? { config: resolve(config) } : {}) };
  return { ...source, ssh: host };
}

/** The one source the options name, checked. */
function localSourceArg(v: Values): SourceArg {
  const given = SOURCE_OPTIONS.filter((option) =>
    option === "stdin" ? v.flag(option) : v.string(option) !== undefined
  );
  if (given.length > 1) {
    throw new UsageError(
      `--${given[0]} and --${given[1]} cannot be used together`,
      "back up one source per run",
    );
  }
  const okExit = v.string("ok-exit");
  if (okExit !== undefined && given[0] !== "command") {
    throw new UsageError("--ok-exit goes with --command");
  }
  if (given[0] !== "folder") {
    for (const option of ["exclude", "split"]) {
      if (v.strings(option).length > 0 || v.flag(option)) {
        throw new UsageError(`--${option} goes with --folder`);
      }
    }
  }
  const excluded = v.strings("exclude-db");
  if (excluded.length > 0 && v.string("postgres") !== "all" && v.string("mysql") !== "all") {
    throw new UsageError("--exclude-db goes with --postgres all or --mysql all");
  }
  switch (given[0]) {
    case undefined:
      throw new UsageError(
        "nothing to back up",
        "pass --file FILE, --sqlite DB, --command CMD --name NAME, or --stdin --name NAME",
      );
    case "stdin":
      return { kind: "stdin" };
    case "postgres": {
      const database = v.string("postgres")!;
      if (database === "") throw new UsageError("--postgres is empty");
      // Where to connect goes with a scheduled job; a password never does (see postgres_source.ts).
      return { kind: "postgres", database, exclude: excluded, env: connectionEnvironment() };
    }
    case "mysql": {
      const database = v.string("mysql")!;
      if (database === "") throw new UsageError("--mysql is empty");
      return { kind: "mysql", database, exclude: excluded, env: mysqlConnectionEnvironment() };
    }
    case "folder": {
      const path = v.string("folder")!;
      if (path === "") throw new UsageError("--folder is empty");
      return { kind: "folder", path, exclude: v.strings("exclude"), split: v.flag("split") };
    }
    case "command": {
      const command = v.string("command")!;
      if (command.trim() === "") throw new UsageError("--command is empty");
      const codes = okExit === undefined ? [] : parseExitCodes(okExit);
      if (!codes) {
        throw new UsageError(
          `--ok-exit must be exit codes from 1 to 255, separated by commas (got '${okExit}')`,
          "for example: --ok-exit 1 (0 always counts as success)",
        );
      }
      return { kind: "command", command, okExit: codes };
    }
    default: {
      const path = v.string(given[0])!;
      if (path === "") throw new UsageError(`--${given[0]} is empty`);
      return { kind: given[0], path };
    }
  }
}

/** Parses --lock-wait: whole seconds, 0 (do not wait) up to a day. */
function parseLockWait(text: string): number {
  const seconds = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(seconds <= 86_400)) {
    throw new UsageError(
      `--lock-wait must be whole seconds, from 0 to 86400 (got '${text}')`,
      `the default is ${DEFAULT_LOCK_WAIT_SECONDS}`,
    );
  }
  return seconds;
}

/** The scheduling options, checked; undefined when the backup is not to be scheduled. */
function scheduleArgs(v: Values): ScheduleArgs | undefined {
  const every = v.string("every");
  const at = v.string("at");
  const time = v.string("time");
  const runs = v.string("runs");
  if (every === undefined && time === undefined) {
    for (const option of ["at", "runs", "schedule-only", "stop-if-missing"]) {
      if (v.string(option) !== undefined || v.flag(option)) {
        throw new UsageError(`--${option} needs --every or --time`, "e.g. --every 1d --at 02:00");
      }
    }
    return undefined;
  }
  if (every !== undefined && time !== undefined) {
    throw new UsageError(
      "--every and --time cannot be used together",
      "choose one way to schedule",
    );
  }
  if (at !== undefined && every === undefined) {
    throw new UsageError("--at goes with --every", "for an at(1) time spec, use --time");
  }
  const minutes = every === undefined ? undefined : parseDuration(every);
  if (
    every !== undefined &&
    (minutes === undefined || minutes < MIN_MINUTES || minutes > MAX_MINUTES)
  ) {
    throw new UsageError(
      `invalid --every '${every}': use minutes, hours, days or weeks, from 1 minute to 520 weeks`,
      "for example: 30m, 6h, 1d, 1w, 1h30m",
    );
  }
  if (at !== undefined && !parseTimeOfDay(at)) {
    throw new UsageError(
      `invalid --at '${at}': use HH:MM, 24-hour local time`,
      "for example: --at 02:00",
    );
  }
  if (time !== undefined && time.trim() === "") throw new UsageError("--time is empty");
  // at would take such a word for one of its own options.
  if (time !== undefined && time.trim().split(/\s+/).some((word) => word.startsWith("-"))) {
    throw new UsageError(`invalid --time '${time}': a time spec has no words starting with '-'`);
  }
  const runsCount = runs === undefined ? null : /^\d+$/.test(runs) ? Number(runs) : NaN;
  if (runsCount !== null && !(Number.isSafeInteger(runsCount) && runsCount >= 1)) {
    throw new UsageError(`--runs must be a whole number, 1 or more (got '${runs}')`);
  }
  return {
    every: every === undefined ? undefined : { text: every, minutes: minutes! },
    at: at === undefined ? undefined : normalTimeOfDay(at),
    time,
    scheduleOnly: v.flag("schedule-only"),
    runs: runsCount,
    stopIfMissing: v.flag("stop-if-missing"),
  };
}

/** `2:00` becomes `02:00`, so the same time is always written the same way. */
function normalTimeOfDay(text: string): string {
  const { hour, minute } = parseTimeOfDay(text)!;
  return `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

/** `key generate [--output FILE]`. */
export interface KeyArgs {
  help: boolean;
  /** Where to write the new identity (never over a file); stdout when not given. */
  output?: string;
}

export function parseKeyArgs(args: string[]): KeyArgs {
  const { values: v, positionals } = parse(args, { output: { type: "string", short: "o" } }, true);
  if (v.flag("help")) return { help: true };
  const [action, ...rest] = positionals;
  if (action !== "generate") {
    throw new UsageError(
      action === undefined ? "key needs an action" : `unknown key action '${action}'`,
      "tinybackup key generate [--output FILE]",
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const output = v.string("output");
  if (output === "") throw new UsageError("--output is empty");
  return { help: false, ...(output === undefined ? {} : { output }) };
}

/** `jobs [--json]`, `doctor` and `log [ID] [--json]`. */
export interface JobsArgs {
  help: boolean;
  json: boolean;
  /** For log: only this job's runs. */
  id?: string;
}

export function parseJobsArgs(args: string[]): JobsArgs {
  const { values: v } = parse(args, { json: { type: "boolean" } }, false);
  return { help: v.flag("help"), json: v.flag("json") };
}

export function parseDoctorArgs(args: string[]): JobsArgs {
  const { values: v } = parse(args, {}, false);
  return { help: v.flag("help"), json: false };
}

export function parseLogArgs(args: string[]): JobsArgs {
  const { values: v, positionals } = parse(args, { json: { type: "boolean" } }, true);
  if (positionals.length > 1) throw new UsageError("log takes at most one job id");
  return { help: v.flag("help"), json: v.flag("json"), id: positionals[0] };
}

export interface UnscheduleArgs {
  help: boolean;
  ids: string[];
  /** The source file of the jobs meant. */
  file?: string;
  /** The series name of the jobs meant (for every source, the name their backups carry). */
  name?: string;
  dest?: string;
  all: boolean;
  dryRun: boolean;
}

export function parseUnscheduleArgs(args: string[]): UnscheduleArgs {
  const { values: v, positionals } = parse(args, {
    file: { type: "string" },
    name: { type: "string" },
    dest: { type: "string" },
    all: { type: "boolean" },
    "dry-run": { type: "boolean" },
  }, true);
  const result: UnscheduleArgs = {
    help: v.flag("help"),
    ids: positionals,
    file: v.string("file"),
    name: v.string("name"),
    dest: v.string("dest"),
    all: v.flag("all"),
    dryRun: v.flag("dry-run"),
  };
  if (result.help) return result;
  const byPaths = result.file !== undefined || result.name !== undefined ||
    result.dest !== undefined;
  const ways = [positionals.length > 0, byPaths, result.all].filter(Boolean).length;
  if (ways !== 1) {
    throw new UsageError(
      "unschedule takes job ids, or --file or --name with --dest, or --all",
      "see the ids with 'tinybackup jobs'",
    );
  }
  if (result.file !== undefined && result.name !== undefined) {
    throw new UsageError(
      "unschedule takes --file or --name, not both",
      "--name selects the jobs of every source by the series name their backups carry",
    );
  }
  if (byPaths && (result.dest === undefined || (result.file ?? result.name) === undefined)) {
    throw new UsageError(
      "unschedule needs --dest with --file or --name",
      "e.g. unschedule --name app.pgdump --dest /backups",
    );
  }
  return result;
}

/** `run [--config FILE] [NAME...]` and `schedule [--config FILE]`. */
export interface ConfigRunArgs {
  help: boolean;
  /** The config file given, as typed; the default file when undefined. */
  config?: string;
  /** The backups of the file to run; all when empty. */
  names: string[];
  dryRun: boolean;
  force: boolean;
  quiet: boolean;
  verbose: boolean;
}

export function parseRunArgs(args: string[]): ConfigRunArgs {
  const { values: v, positionals } = parse(args, {
    config: { type: "string" },
    "dry-run": { type: "boolean" },
    force: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    verbose: { type: "boolean", short: "v" },
  }, true);
  if (v.flag("quiet") && v.flag("verbose")) {
    throw new UsageError("--quiet and --verbose cannot be used together");
  }
  return {
    help: v.flag("help"),
    config: configPath(v),
    names: positionals,
    dryRun: v.flag("dry-run"),
    force: v.flag("force"),
    quiet: v.flag("quiet"),
    verbose: v.flag("verbose"),
  };
}

export function parseScheduleArgs(args: string[]): ConfigRunArgs {
  const { values: v } = parse(args, {
    config: { type: "string" },
    "dry-run": { type: "boolean" },
  }, false);
  return {
    help: v.flag("help"),
    config: configPath(v),
    names: [],
    dryRun: v.flag("dry-run"),
    force: false,
    quiet: false,
    verbose: false,
  };
}

/** `config validate|show|init [--config FILE]`. */
export interface ConfigArgs {
  help: boolean;
  action?: "validate" | "show" | "init";
  config?: string;
}

export function parseConfigArgs(args: string[]): ConfigArgs {
  const { values: v, positionals } = parse(args, { config: { type: "string" } }, true);
  if (v.flag("help")) return { help: true };
  const [action, ...rest] = positionals;
  if (action !== "validate" && action !== "show" && action !== "init") {
    throw new UsageError(
      action === undefined
        ? "config needs validate, show or init"
        : `unknown config action '${action}'`,
      "tinybackup config validate|show|init [--config FILE]",
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  return { help: false, action, config: configPath(v) };
}

function configPath(v: Values): string | undefined {
  const config = v.string("config");
  if (config === "") throw new UsageError("--config is empty");
  return config;
}

/** Which series a list, verify or prune is about; all when neither is given. */
export interface SeriesArgs {
  help: boolean;
  dest: string;
  /** The source file whose series is meant. */
  file?: string;
  /** The series name given with --name. */
  name?: string;
  json: boolean;
  /** The ssh config file for an sftp:// destination (ssh -F), absolute. */
  sshConfig?: string;
}

export function parseListArgs(args: string[]): SeriesArgs {
  return seriesArgs(parse(args, SERIES, false).values);
}

export interface VerifyArgs extends SeriesArgs {
  /** What opens encrypted backups; without it their stored bytes only are checked. */
  decryption?: DecryptionSpec;
}

export function parseVerifyArgs(args: string[]): VerifyArgs {
  const { values: v } = parse(args, { ...SERIES, ...DECRYPTION_OPTIONS }, false);
  const series = seriesArgs(v);
  if (series.help) return series;
  const decryption = decryptionArgs(v);
  return { ...series, ...(decryption ? { decryption } : {}) };
}

export interface PruneArgs extends SeriesArgs {
  retention: Retention;
  dryRun: boolean;
}

export function parsePruneArgs(args: string[]): PruneArgs {
  const { values: v } = parse(
    args,
    { ...SERIES, ...RETENTION, "dry-run": { type: "boolean" } },
    false,
  );
  const series = seriesArgs(v);
  if (series.help) return { ...series, retention: keepLast(0), dryRun: false };
  if (series.name === undefined && series.file === undefined) {
    throw new UsageError(
      "prune needs --file or --name",
      "prune works on one file's backups at a time",
    );
  }
  const retention = retentionArgs(v);
  if (!retention) {
    throw new UsageError(
      "prune needs --keep N or a calendar rule",
      "e.g. --keep 7, or --keep-daily 7 --keep-weekly 4",
    );
  }
  return { ...series, retention, dryRun: v.flag("dry-run") };
}

export interface RestoreArgs {
  help: boolean;
  backup: string;
  /** Where to restore to: a file, a folder, or "-" for stdout; undefined for the current folder. */
  to?: string;
  force: boolean;
  /** The ssh config file for a backup given as an sftp:// URL (ssh -F), absolute. */
  sshConfig?: string;
  /** What opens an encrypted backup. */
  decryption?: DecryptionSpec;
}

export function parseRestoreArgs(args: string[]): RestoreArgs {
  const { values: v, positionals } = parse(
    args,
    {
      to: { type: "string" },
      force: { type: "boolean" },
      "ssh-config": { type: "string" },
      ...DECRYPTION_OPTIONS,
    },
    true,
  );
  if (v.flag("help")) return { help: true, backup: "", force: false };
  if (positionals.length === 0) throw new UsageError("restore needs the backup file to restore");
  if (positionals.length > 1) {
    throw new UsageError("restore takes one backup file", "restore one backup per run");
  }
  const to = v.string("to");
  if (to === "") throw new UsageError("--to is empty");
  const decryption = decryptionArgs(v);
  return {
    help: false,
    backup: positionals[0],
    to,
    force: v.flag("force"),
    ...destSshConfig(v, positionals[0]),
    ...(decryption ? { decryption } : {}),
  };
}

type Options = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** Parsed option values: a string for a string option, true for a flag given. */
class Values {
  constructor(
    private readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>,
  ) {}
  string(option: string): string | undefined {
    return this.values[option] as string | undefined;
  }
  /** Every value of an option that may be given more than once. */
  strings(option: string): string[] {
    return (this.values[option] as unknown as string[] | undefined) ?? [];
  }
  flag(option: string): boolean {
    return this.values[option] === true;
  }
}

/** parseArgs with its errors turned into ours. */
function parse(
  args: string[],
  options: Options,
  allowPositionals: boolean,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...COMMON, ...options },
      strict: true,
      allowPositionals,
    });
    return { values: new Values(values), positionals };
  } catch (error) {
    throw usageErrorFrom(error);
  }
}

function usageErrorFrom(error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]+)/.exec(message)?.[1] ?? "";
  switch ((error as { code?: string }).code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new UsageError(`unknown option '${option}'`, "see 'tinybackup --help'");
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (message.includes("ambiguous")) {
        return new UsageError(
          `option '${option}' needs a value`,
          `for a value that starts with '-', write ${option}=VALUE`,
        );
      }
      return new UsageError(
        `option '${option}' ${message.includes("missing") ? "needs a value" : "takes no value"}`,
      );
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(
        `unexpected argument '${/'([^']*)'/.exec(message)?.[1] ?? ""}'`,
        "see 'tinybackup --help'",
      );
    default:
      return new UsageError(message);
  }
}

function seriesArgs(v: Values): SeriesArgs {
  const file = v.string("file");
  const name = v.string("name");
  if (v.flag("help")) return { help: true, dest: "", json: false };
  if (file === "") throw new UsageError("--file is empty");
  const dest = requiredDest(v.string("dest"));
  return {
    help: false,
    dest,
    file,
    name: name !== undefined ? seriesName(name) : undefined,
    json: v.flag("json"),
    ...destSshConfig(v, dest),
  };
}

/**
 * --ssh-config for an sftp:// destination, as an absolute path; it also
 * serves --ssh, and goes with nothing else.
 */
function destSshConfig(v: Values, dest: string): { sshConfig?: string } {
  const config = v.string("ssh-config");
  if (config === undefined) return {};
  if (config === "") throw new UsageError("--ssh-config is empty");
  if (!isSftpUrl(dest) && v.string("ssh") === undefined) {
    throw new UsageError("--ssh-config goes with --ssh or an sftp:// destination");
  }
  return { sshConfig: resolve(config) };
}

function requiredDest(dest: string | undefined): string {
  if (dest === undefined) {
    throw new UsageError("--dest is required", "pass --dest FOLDER, where backups go");
  }
  if (dest === "") throw new UsageError("--dest is empty");
  return dest;
}

/**
 * The retention options, checked; undefined when none is given. With a
 * calendar rule, `--keep` adds "the last N versions" to it and defaults to
 * none, and 0 (which alone keeps everything) makes no sense.
 */
function retentionArgs(v: Values): Retention | undefined {
  const keep = v.string("keep");
  const within = v.string("keep-within");
  const calendar = CALENDAR_RULES.filter((rule) => v.string(`keep-${rule}`) !== undefined);
  if (keep === undefined && within === undefined && calendar.length === 0) return undefined;
  const retention = keepLast(keep === undefined ? 0 : parseKeep(keep));
  for (const rule of calendar) retention[rule] = parseRuleCount(rule, v.string(`keep-${rule}`)!);
  if (within !== undefined) {
    const span = parseCalendarSpan(within);
    if (!span) {
      throw new UsageError(
        `invalid --keep-within '${within}': use years, months, weeks, days and hours, as in 1y6m, 30d, 2w, 36h`,
        "as in restic, m is months here",
      );
    }
    retention.within = span;
  }
  if (keep !== undefined && retention.last === 0 && (calendar.length > 0 || within !== undefined)) {
    throw new UsageError(
      "--keep 0 keeps every backup, so it does not go with the other --keep-* options",
      "leave out --keep, or give it the number of newest versions to keep as well",
    );
  }
  return retention;
}

function parseRuleCount(rule: string, text: string): number {
  const count = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(count) && count >= 1)) {
    throw new UsageError(`--keep-${rule} must be a whole number, 1 or more (got '${text}')`);
  }
  return count;
}

/** Parses --keep: a whole number, 0 or more. */
export function parseKeep(text: string): number {
  const keep = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(keep)) {
    throw new UsageError(
      `--keep must be a whole number, 0 or more (got '${text}')`,
      "0 keeps every backup",
    );
  }
  return keep;
}

/** Parses --compress. */
export function parseCompression(text: string): Compression {
  if (!(COMPRESSIONS as readonly string[]).includes(text)) {
    throw new UsageError(
      `unknown compression '${text}'`,
      `choose one of: ${COMPRESSIONS.join(", ")}`,
    );
  }
  return text as Compression;
}

/** Checks a series name given with --name or taken from a file name. */
function seriesName(name: string): string {
  const problem = seriesNameProblem(name);
  if (problem) {
    throw new UsageError(
      `invalid series name '${name}': ${problem}`,
      "a name may not contain '/' or NUL, nor start with '.'; choose one with --name",
    );
  }
  return name;
}

/**
 * The default series name: the last part of the path, without leading dots,
 * so that `.bashrc` is backed up as the visible series `bashrc`.
 */
function defaultSeriesName(path: string): string {
  return (path.replace(/\/+$/, "").split("/").pop() ?? "").replace(/^\.+/, "");
}
