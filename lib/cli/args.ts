/**
 * Command-line arguments to typed, checked options. Pure: everything here is
 * decided from the arguments alone; what needs the file system is checked by
 * the commands.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { type Compression, COMPRESSIONS, seriesNameProblem } from "../backup/naming.ts";

/** Options every command knows. */
const COMMON = { help: { type: "boolean", short: "h" } } as const;

const SERIES = {
  dest: { type: "string" },
  file: { type: "string" },
  name: { type: "string" },
  json: { type: "boolean" },
} as const;

export const COMMANDS = ["backup", "list", "restore", "verify", "prune"] as const;
export type CommandName = typeof COMMANDS[number];

/** Splits argv into a command and its arguments; backup when none is named. */
export function splitCommand(argv: string[]): { command: CommandName; args: string[] } {
  const first = argv[0];
  if (first === undefined) {
    throw new UsageError(
      "nothing to do",
      "try 'tinybackup --file FILE --dest FOLDER', or see --help",
    );
  }
  if ((COMMANDS as readonly string[]).includes(first)) {
    return { command: first as CommandName, args: argv.slice(1) };
  }
  if (first.startsWith("-")) return { command: "backup", args: argv };
  throw new UsageError(`unknown command '${first}'`, `commands: ${COMMANDS.join(", ")}`);
}

export interface BackupArgs {
  help: boolean;
  /** The file to back up; undefined with --stdin. */
  file?: string;
  stdin: boolean;
  name: string;
  dest: string;
  keep: number;
  compression: Compression;
  force: boolean;
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  allowChanging: boolean;
}

/** The default number of backups kept per series, as in the first seed. */
export const DEFAULT_KEEP = 14;

export function parseBackupArgs(args: string[]): BackupArgs {
  const { values: v } = parse(args, {
    ...SERIES,
    stdin: { type: "boolean" },
    keep: { type: "string" },
    compress: { type: "string" },
    force: { type: "boolean" },
    "dry-run": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    verbose: { type: "boolean", short: "v" },
    "allow-changing": { type: "boolean" },
  }, false);
  const file = v.string("file");
  const name = v.string("name");
  const stdin = v.flag("stdin");
  const base = {
    stdin,
    keep: DEFAULT_KEEP,
    compression: "gzip" as Compression,
    force: v.flag("force"),
    dryRun: v.flag("dry-run"),
    json: v.flag("json"),
    quiet: v.flag("quiet"),
    verbose: v.flag("verbose"),
    allowChanging: v.flag("allow-changing"),
  };
  if (v.flag("help")) return { ...base, help: true, name: "", dest: "" };
  if (file !== undefined && stdin) {
    throw new UsageError(
      "--file and --stdin cannot be used together",
      "back up one source per run",
    );
  }
  if (file === undefined && !stdin) {
    throw new UsageError("nothing to back up", "pass --file FILE, or --stdin --name NAME");
  }
  if (file === "") throw new UsageError("--file is empty");
  if (stdin && name === undefined) {
    throw new UsageError("--stdin needs --name", "name the series, e.g. --name app.sql");
  }
  if (base.quiet && base.verbose) {
    throw new UsageError("--quiet and --verbose cannot be used together");
  }
  const keep = v.string("keep");
  const compress = v.string("compress");
  return {
    ...base,
    help: false,
    file,
    name: seriesName(name ?? baseName(file!)),
    dest: requiredDest(v.string("dest")),
    keep: keep === undefined ? DEFAULT_KEEP : parseKeep(keep),
    compression: compress === undefined ? "gzip" : parseCompression(compress),
  };
}

/** Which series a list, verify or prune is about; all when neither is given. */
export interface SeriesArgs {
  help: boolean;
  dest: string;
  /** The source file whose series is meant. */
  file?: string;
  /** The series name: --name, else the base name of --file. */
  name?: string;
  json: boolean;
}

export function parseListArgs(args: string[]): SeriesArgs {
  return seriesArgs(parse(args, SERIES, false).values);
}

export function parseVerifyArgs(args: string[]): SeriesArgs {
  return seriesArgs(parse(args, SERIES, false).values);
}

export interface PruneArgs extends SeriesArgs {
  keep: number;
  dryRun: boolean;
}

export function parsePruneArgs(args: string[]): PruneArgs {
  const { values: v } = parse(
    args,
    { ...SERIES, keep: { type: "string" }, "dry-run": { type: "boolean" } },
    false,
  );
  const series = seriesArgs(v);
  if (series.help) return { ...series, keep: 0, dryRun: false };
  if (series.name === undefined) {
    throw new UsageError("prune needs --file or --name", "prune works on one series at a time");
  }
  const keep = v.string("keep");
  if (keep === undefined) throw new UsageError("prune needs --keep N");
  return { ...series, keep: parseKeep(keep), dryRun: v.flag("dry-run") };
}

export interface RestoreArgs {
  help: boolean;
  backup: string;
  /** Where to restore to: a file, a folder, or "-" for stdout; undefined for the current folder. */
  to?: string;
  force: boolean;
}

export function parseRestoreArgs(args: string[]): RestoreArgs {
  const { values: v, positionals } = parse(
    args,
    { to: { type: "string" }, force: { type: "boolean" } },
    true,
  );
  if (v.flag("help")) return { help: true, backup: "", force: false };
  if (positionals.length === 0) throw new UsageError("restore needs the backup file to restore");
  if (positionals.length > 1) {
    throw new UsageError("restore takes one backup file", "restore one backup per run");
  }
  const to = v.string("to");
  if (to === "") throw new UsageError("--to is empty");
  return { help: false, backup: positionals[0], to, force: v.flag("force") };
}

type Options = Record<string, { type: "string" | "boolean"; short?: string }>;

/** Parsed option values: a string for a string option, true for a flag given. */
class Values {
  constructor(private readonly values: Record<string, string | boolean | undefined>) {}
  string(option: string): string | undefined {
    return this.values[option] as string | undefined;
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
  return {
    help: false,
    dest: requiredDest(v.string("dest")),
    file,
    name: name !== undefined
      ? seriesName(name)
      : file !== undefined
      ? seriesName(baseName(file))
      : undefined,
    json: v.flag("json"),
  };
}

function requiredDest(dest: string | undefined): string {
  if (dest === undefined) {
    throw new UsageError("--dest is required", "pass --dest FOLDER, where backups go");
  }
  if (dest === "") throw new UsageError("--dest is empty");
  return dest;
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
export function seriesName(name: string): string {
  const problem = seriesNameProblem(name);
  if (problem) {
    throw new UsageError(
      `invalid series name '${name}': ${problem}`,
      "a name may not contain '/' or NUL, nor start with '.'; choose one with --name",
    );
  }
  return name;
}

/** The last part of a path, as the default series name. */
function baseName(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() ?? "";
}
