/**
 * The config file's keys, each the spelling of a command-line option: a
 * backup in the file is turned into the arguments `tinybackup --file ...`
 * would be given, and parsed by the same parser (parseBackupArgs), so the two
 * spellings cannot drift apart. Pure: the file's values and the environment
 * come in, arguments and every problem found go out.
 */
import { isAbsolute, join } from "node:path";
import { interpolate } from "./interpolate.ts";
import { isRemoteUrl } from "../stores/remote_url.ts";
import { isPingUrl } from "./ping.ts";

/** How a key's value becomes arguments. */
type Kind =
  | "string" // --flag=VALUE (with '=', so a value may start with '-')
  | "path" // --flag=PATH: ~ is the home folder, a relative path is relative to the file
  | "boolean" // --flag when true
  | "strings" // --flag=VALUE for each item of a list
  | "count" // --flag=N, a whole number
  | "exit-codes" // --flag=1,24, from a list of numbers
  | "time-of-day"; // --flag=HH:MM, from "02:00" or a TOML local time

interface Key {
  flag: string;
  kind: Kind;
}

/** The keys that name a source: exactly one per backup, and never in [defaults]. */
export const SOURCE_KEYS: Record<string, Key> = {
  file: { flag: "--file", kind: "path" },
  folder: { flag: "--folder", kind: "path" },
  sqlite: { flag: "--sqlite", kind: "path" },
  postgres: { flag: "--postgres", kind: "string" },
  mysql: { flag: "--mysql", kind: "string" },
  command: { flag: "--command", kind: "string" },
};

/** The other options of a backup; these may also be given in [defaults]. */
const OPTION_KEYS: Record<string, Key> = {
  ssh: { flag: "--ssh", kind: "string" },
  ssh_config: { flag: "--ssh-config", kind: "path" },
  exclude: { flag: "--exclude", kind: "strings" },
  split: { flag: "--split", kind: "boolean" },
  exclude_db: { flag: "--exclude-db", kind: "strings" },
  ok_exit: { flag: "--ok-exit", kind: "exit-codes" },
  compress: { flag: "--compress", kind: "string" },
  allow_changing: { flag: "--allow-changing", kind: "boolean" },
  allow_empty: { flag: "--allow-empty", kind: "boolean" },
  lock_wait: { flag: "--lock-wait", kind: "count" },
  recipients: { flag: "--recipient", kind: "strings" },
  recipients_file: { flag: "--recipients-file", kind: "path" },
  identity_file: { flag: "--identity", kind: "path" },
  passphrase_file: { flag: "--passphrase-file", kind: "path" },
  passphrase_command: { flag: "--passphrase-command", kind: "string" },
};

/** `retention = { last = 3, daily = 7, ... }`. */
const RETENTION_KEYS: Record<string, Key> = {
  last: { flag: "--keep", kind: "count" },
  hourly: { flag: "--keep-hourly", kind: "count" },
  daily: { flag: "--keep-daily", kind: "count" },
  weekly: { flag: "--keep-weekly", kind: "count" },
  monthly: { flag: "--keep-monthly", kind: "count" },
  yearly: { flag: "--keep-yearly", kind: "count" },
  within: { flag: "--keep-within", kind: "string" },
};

/** `schedule = { every = "1d", at = "02:00" }` or `{ time = "..." }`. */
const SCHEDULE_KEYS: Record<string, Key> = {
  every: { flag: "--every", kind: "string" },
  at: { flag: "--at", kind: "time-of-day" },
  time: { flag: "--time", kind: "string" },
  runs: { flag: "--runs", kind: "count" },
  stop_if_missing: { flag: "--stop-if-missing", kind: "boolean" },
};

/** Keys of the file that are not options of one backup run. */
const RUN_KEYS = [
  "dest",
  "retention",
  "schedule",
  "ping_url",
  "ping_url_file",
  "ping_url_command",
  "ping_timeout",
  "on_failure",
];

/** The tables a key may hold, by their key in a backup. */
const TABLES: Record<string, Record<string, Key>> = {
  retention: RETENTION_KEYS,
  schedule: SCHEDULE_KEYS,
};

/** Every option's flag, as the key path a message should name instead. */
const KEY_OF_FLAG = new Map<string, string>([
  ...Object.entries({ ...SOURCE_KEYS, ...OPTION_KEYS }).map(([k, v]) => [v.flag, k] as const),
  ...Object.entries(TABLES).flatMap(([table, keys]) =>
    Object.entries(keys).map(([k, v]) => [v.flag, `${table}.${k}`] as const)
  ),
  ["--dest", "dest"],
  ["--name", "name"],
]);

/** The option flags the file can spell (a test holds them to the command line's). */
export const SPELLED_FLAGS: readonly string[] = [...KEY_OF_FLAG.keys()];

/**
 * Where a backup's monitoring pings go (the URL, or a file or a command
 * that gives it at each run), and how long each try may take.
 */
export type PingUrl = ({ url: string } | { file: string } | { command: string }) & {
  timeoutSeconds: number;
};

/** How long a ping may take by default, in seconds. */
export const DEFAULT_PING_TIMEOUT = 10;

/** One backup of the file, as the command line would give it. */
export interface ConfigBackup {
  /** Its name in the file: `[backup.NAME]`. */
  name: string;
  /** The arguments of `tinybackup` for this backup, without --dest. */
  args: string[];
  /** Every destination, in the order given. */
  dests: string[];
  ping?: PingUrl;
  /** A command (argv) to run when the backup fails. */
  onFailure?: string[];
}

/** What the file's values are read against. */
export interface Context {
  env: (name: string) => string | undefined;
  /** The home folder, for `~`. */
  home?: string;
  /** The folder the file is in, for relative paths. */
  dir: string;
}

/** A backup's name in the file: used in `run NAME`, job ids and lock names. */
const BACKUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Reads a parsed file. Returns the backups, and every problem found, each
 * as `key.path: what is wrong`; a backup with a value it cannot use is left
 * out (one with an unknown key is not: its arguments are still checked).
 */
export function readConfig(
  doc: Record<string, unknown>,
  context: Context,
): { backups: ConfigBackup[]; problems: string[] } {
  const problems: string[] = [];
  for (const key of Object.keys(doc)) {
    if (key !== "defaults" && key !== "backup") {
      problems.push(`${key}: unknown key${suggestion(key, ["defaults", "backup"])}`);
    }
  }
  const defaults = { ...tableAt(doc, "defaults", problems) };
  for (const key of Object.keys(defaults)) {
    if (key in SOURCE_KEYS || key === "name") {
      delete defaults[key];
      problems.push(
        `defaults.${key}: ${
          key === "name" ? "a name" : "a source"
        } belongs in a [backup.NAME] table`,
      );
    }
  }
  const tables = tableAt(doc, "backup", problems) ?? {};
  if (Object.keys(tables).length === 0 && problems.length === 0) {
    problems.push("backup: no backups: add a [backup.NAME] table with a source and a dest");
  }
  const backups: ConfigBackup[] = [];
  for (const [name, table] of Object.entries(tables)) {
    const path = `backup.${name}`;
    if (!BACKUP_NAME.test(name)) {
      problems.push(
        `${path}: a backup's name is letters, digits, '_', '.' and '-', up to 64, not starting with '.' or '-'`,
      );
      continue;
    }
    if (!isTable(table)) {
      problems.push(`${path}: expected a table ([${path}])`);
      continue;
    }
    const before = problems.length;
    const backup = readBackup(
      name,
      { ...defaults, ...table },
      new Set(Object.keys(table)),
      context,
      problems,
    );
    // A key that is not known changes no argument: the rest is still worth checking.
    const blocked = problems.slice(before).some((p) => !p.includes(": unknown key"));
    if (backup && !blocked) backups.push(backup);
  }
  // A mistake in [defaults] is found once for each backup: said once.
  return { backups, problems: [...new Set(problems)] };
}

function readBackup(
  name: string,
  merged: Record<string, unknown>,
  own: Set<string>,
  context: Context,
  problems: string[],
): ConfigBackup | undefined {
  const where = (key: string) =>
    `${own.has(key.split(".")[0]) ? `backup.${name}` : "defaults"}.${key}`;
  const known = [...Object.keys(SOURCE_KEYS), ...Object.keys(OPTION_KEYS), ...RUN_KEYS, "name"];
  const args: string[] = [];
  for (const [key, value] of Object.entries(merged)) {
    if (key in TABLES) {
      if (!isTable(value)) {
        problems.push(
          `${where(key)}: expected a table, e.g. ${key} = { ${Object.keys(TABLES[key])[0]} = ... }`,
        );
        continue;
      }
      if (Object.keys(value).length === 0) {
        // Else it would silently mean the default (last 14), or no schedule.
        problems.push(
          `${where(key)}: the table is empty: give ${
            Object.keys(TABLES[key]).join(", ")
          }, or leave ${key} out`,
        );
        continue;
      }
      for (const [inner, innerValue] of Object.entries(value)) {
        const spec = TABLES[key][inner];
        if (!spec) {
          problems.push(
            `${where(`${key}.${inner}`)}: unknown key${
              suggestion(inner, Object.keys(TABLES[key]))
            }`,
          );
          continue;
        }
        args.push(...argsOf(spec, innerValue, where(`${key}.${inner}`), context, problems));
      }
      continue;
    }
    if (key === "name") {
      const text = stringAt(value, where(key), context, problems);
      if (text !== undefined) args.push(`--name=${text}`);
      continue;
    }
    const spec = SOURCE_KEYS[key] ?? OPTION_KEYS[key];
    if (spec) {
      args.push(...argsOf(spec, value, where(key), context, problems));
    } else if (!RUN_KEYS.includes(key)) {
      problems.push(`${where(key)}: unknown key${suggestion(key, known)}`);
    }
  }
  if (!Object.keys(SOURCE_KEYS).some((key) => key in merged)) {
    problems.push(`backup.${name}: no source: give one of ${Object.keys(SOURCE_KEYS).join(", ")}`);
  }
  const dests = destsAt(merged.dest, where("dest"), context, problems);
  if (dests?.length === 0) {
    problems.push(`backup.${name}: no dest: set dest here or in [defaults]`);
  }
  const ping = pingAt(merged, where, context, problems);
  const onFailure = merged.on_failure === undefined
    ? undefined
    : listAt(merged.on_failure, where("on_failure"), context, problems);
  if (onFailure?.length === 0) problems.push(`${where("on_failure")}: the command is empty`);
  if (dests === undefined) return undefined;
  return { name, args, dests, ...(ping ? { ping } : {}), ...(onFailure ? { onFailure } : {}) };
}

/** The arguments one key gives, or none (and a problem) when its value is of the wrong type. */
function argsOf(
  spec: Key,
  value: unknown,
  where: string,
  context: Context,
  problems: string[],
): string[] {
  switch (spec.kind) {
    case "string": {
      const text = stringAt(value, where, context, problems);
      return text === undefined ? [] : [`${spec.flag}=${text}`];
    }
    case "path": {
      const text = stringAt(value, where, context, problems);
      return text === undefined ? [] : [`${spec.flag}=${pathFrom(text, context)}`];
    }
    case "boolean":
      if (typeof value !== "boolean") {
        problems.push(`${where}: expected true or false, got ${describe(value)}`);
        return [];
      }
      return value ? [spec.flag] : [];
    case "strings":
      return (listAt(value, where, context, problems) ?? []).map((item) => `${spec.flag}=${item}`);
    case "count":
      if (!Number.isSafeInteger(value)) {
        problems.push(`${where}: expected a whole number, got ${describe(value)}`);
        return [];
      }
      return [`${spec.flag}=${value}`];
    case "exit-codes":
      if (!Array.isArray(value) || !value.every((n) => Number.isSafeInteger(n))) {
        problems.push(
          `${where}: expected a list of exit codes, e.g. [1, 24], got ${describe(value)}`,
        );
        return [];
      }
      return [`${spec.flag}=${value.join(",")}`];
    case "time-of-day": {
      const text = timeOfDay(value);
      if (text === undefined) {
        const typed = stringAt(value, where, context, problems);
        return typed === undefined ? [] : [`${spec.flag}=${typed}`];
      }
      return [`${spec.flag}=${text}`];
    }
  }
}

/** A TOML local time (`at = 02:00:00`) as HH:MM; undefined for anything else. */
function timeOfDay(value: unknown): string | undefined {
  if (!(value instanceof Date)) return undefined;
  // smol-toml's local times are Dates whose ISO form is the time alone.
  const match = /^(\d\d):(\d\d):00(\.0+)?$/.exec(value.toISOString());
  return match ? `${match[1]}:${match[2]}` : undefined;
}

function stringAt(
  value: unknown,
  where: string,
  context: Context,
  problems: string[],
): string | undefined {
  if (typeof value !== "string") {
    problems.push(`${where}: expected a string, got ${describe(value)}`);
    return undefined;
  }
  const result = interpolate(value, context.env);
  if ("problem" in result) {
    problems.push(`${where}: ${result.problem}`);
    return undefined;
  }
  return result.value;
}

function listAt(
  value: unknown,
  where: string,
  context: Context,
  problems: string[],
): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${where}: expected a list of strings, e.g. ["a", "b"], got ${describe(value)}`);
    return undefined;
  }
  const items: string[] = [];
  value.forEach((item, i) => {
    const text = stringAt(item, `${where}[${i}]`, context, problems);
    if (text !== undefined) items.push(text);
  });
  return items.length === value.length ? items : undefined;
}

/** `dest = "/backups"` or `dest = ["/backups", "s3://b/h"]`: local paths read as paths. */
function destsAt(
  value: unknown,
  where: string,
  context: Context,
  problems: string[],
): string[] | undefined {
  if (value === undefined) return [];
  const list = typeof value === "string"
    ? [stringAt(value, where, context, problems)].filter((d) => d !== undefined)
    : listAt(value, where, context, problems);
  if (!list) return undefined;
  const dests = list.map((dest) => isRemoteUrl(dest) ? dest : pathFrom(dest, context));
  const twice = dests.find((dest, i) => dests.indexOf(dest) !== i);
  if (twice !== undefined) {
    problems.push(`${where}: ${twice} is given twice`);
    return undefined;
  }
  return dests;
}

function pingAt(
  merged: Record<string, unknown>,
  where: (key: string) => string,
  context: Context,
  problems: string[],
): PingUrl | undefined {
  const given = ["ping_url", "ping_url_file", "ping_url_command"].filter((k) =>
    merged[k] !== undefined
  );
  if (given.length > 1) {
    problems.push(`${where(given[1])}: give one of ${given.join(" and ")}, not both`);
    return undefined;
  }
  const timeout = merged.ping_timeout ?? DEFAULT_PING_TIMEOUT;
  if (!Number.isSafeInteger(timeout) || (timeout as number) < 1 || (timeout as number) > 300) {
    problems.push(
      `${where("ping_timeout")}: expected whole seconds from 1 to 300, got ${describe(timeout)}`,
    );
    return undefined;
  }
  const timeoutSeconds = timeout as number;
  if (merged.ping_url !== undefined) {
    const url = stringAt(merged.ping_url, where("ping_url"), context, problems);
    if (url === undefined) return undefined;
    if (!isPingUrl(url)) {
      problems.push(`${where("ping_url")}: expected an http:// or https:// URL`);
      return undefined;
    }
    return { url, timeoutSeconds };
  }
  if (merged.ping_url_file !== undefined) {
    const file = stringAt(merged.ping_url_file, where("ping_url_file"), context, problems);
    return file === undefined ? undefined : { file: pathFrom(file, context), timeoutSeconds };
  }
  if (merged.ping_url_command !== undefined) {
    const key = where("ping_url_command");
    const command = stringAt(merged.ping_url_command, key, context, problems);
    if (command?.trim() === "") problems.push(`${key}: expected a command, got an empty string`);
    return command?.trim() ? { command, timeoutSeconds } : undefined;
  }
  return undefined;
}

function pathFrom(text: string, context: Context): string {
  if ((text === "~" || text.startsWith("~/")) && context.home) {
    return join(context.home, text.slice(1));
  }
  return text === "" || isAbsolute(text) ? text : join(context.dir, text);
}

function tableAt(
  doc: Record<string, unknown>,
  key: string,
  problems: string[],
): Record<string, unknown> | undefined {
  const value = doc[key];
  if (value === undefined) return undefined;
  if (!isTable(value)) {
    problems.push(`${key}: expected a table ([${key}${key === "backup" ? ".NAME" : ""}])`);
    return undefined;
  }
  return value;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date or time";
  if (isTable(value)) return "a table";
  return typeof value === "string"
    ? `the string ${JSON.stringify(value)}`
    : `${typeof value} ${String(value)}`;
}

/** "; did you mean daily?" for a key a letter or two away from a known one (or dashes for underscores). */
export function suggestion(key: string, known: readonly string[]): string {
  const underscored = key.replaceAll("-", "_");
  const best = known.map((k) => ({ k, d: k === underscored ? 0 : distance(key.toLowerCase(), k) }))
    .sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(1, Math.floor(key.length / 4)) + 1 && best.d <= 3
    ? `; did you mean ${best.k}?`
    : "";
}

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/**
 * A message of the command-line parser in the file's terms: `--keep-daily`
 * becomes `retention.daily`, `--ssh-config` `ssh_config`.
 */
export function inFileTerms(message: string): string {
  return message.replace(/--[a-z][a-z-]*/g, (flag) => KEY_OF_FLAG.get(flag) ?? flag);
}
