/**
 * Finding, reading and checking a config file. Every problem is found
 * before anything runs, and reported together (exit 2): syntax errors with
 * the file's line and column, the others with their key path. The TOML
 * parser is loaded only here, when a config file is used.
 */
import { dirname, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { type BackupArgs, parseBackupArgs } from "../cli/args.ts";
import { type ConfigBackup, inFileTerms, readConfig } from "./config_keys.ts";

/** A backup of the file, checked: one set of options per destination. */
export interface PlannedBackup extends Omit<ConfigBackup, "args"> {
  /** The options for each destination, in the order of `dests`. */
  runs: BackupArgs[];
}

export interface Config {
  /** The file, absolute. */
  path: string;
  backups: PlannedBackup[];
}

/** `$XDG_CONFIG_HOME/tinybackup/config.toml`, else `~/.config/tinybackup/config.toml`. */
export function defaultConfigPath(env: (name: string) => string | undefined): string {
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return resolve(xdg, "tinybackup", "config.toml");
  const home = env("HOME");
  if (!home) {
    throw new UsageError(
      "neither XDG_CONFIG_HOME nor HOME is set: no default config file",
      "pass --config FILE",
    );
  }
  return resolve(home, ".config", "tinybackup", "config.toml");
}

/**
 * Reads and checks the file at `path` (the default when undefined), with
 * `${VAR}` taken from `env`.
 * @throws {UsageError} listing every problem, when there is any
 */
export async function loadConfig(
  path: string | undefined,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Promise<Config> {
  const file = path === undefined ? defaultConfigPath(env) : resolve(path);
  const text = await readTrusted(file, path === undefined);
  const { parse, TomlError } = await import("smol-toml");
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const what = error.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
    throw new UsageError(
      `${file}:${error.line}:${error.column}: ${what}`,
      "the file is TOML (https://toml.io): strings in double quotes, a backup as [backup.NAME]; 'tinybackup config init --config FILE' writes an example",
    );
  }
  const { backups, problems } = readConfig(doc, { env, home: env("HOME"), dir: dirname(file) });
  const planned: PlannedBackup[] = [];
  for (const { args, ...backup } of backups) {
    const runs: BackupArgs[] = [];
    for (const dest of backup.dests) {
      try {
        runs.push(parseBackupArgs([...args, `--dest=${dest}`]));
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        const problem = `backup.${backup.name}: ${inFileTerms(error.message)}`;
        if (!problems.includes(problem)) problems.push(problem);
      }
    }
    if (runs.length === backup.dests.length) planned.push({ ...backup, runs });
  }
  if (problems.length > 0) {
    const [first, ...more] = problems.map((problem) => `${file}: ${problem}`);
    throw new UsageError(first, "see 'tinybackup config --help' for every key", more);
  }
  return { path: file, backups: planned };
}

/**
 * The file's text, if only its owner (this user or root) can change it: the
 * file says which commands run, so a file others can write is refused, as
 * ssh refuses such a config.
 */
async function readTrusted(file: string, isDefault: boolean): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `no config file at ${file}`,
        isDefault
          ? "write one with 'tinybackup config init', or pass --config FILE"
          : "check the path given with --config",
      );
    }
    throw new UsageError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  if (!info.isFile) throw new UsageError(`the config file ${file} is not a file`);
  const me = Deno.uid();
  if (me !== null && info.uid !== null && info.uid !== me && info.uid !== 0) {
    throw new UsageError(
      `the config file ${file} belongs to another user (uid ${info.uid}); it says which commands run, so only your own is used`,
    );
  }
  const mode = info.mode! & 0o777;
  if ((mode & 0o022) !== 0) {
    throw new UsageError(
      `the config file ${file} can be written by ${
        (mode & 0o002) !== 0 ? "anyone" : "its group"
      } (mode 0${mode.toString(8)}); it says which commands run, so it must be yours alone`,
      `chmod go-w ${file}`,
    );
  }
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new UsageError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
}
