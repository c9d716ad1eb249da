/**
 * The command names and which one a command line asks for. Kept apart from
 * the option parsers so that start-up loads only this.
 */
import { UsageError } from "../errors.ts";

export const COMMANDS = [
  "backup",
  "run",
  "schedule",
  "config",
  "list",
  "restore",
  "verify",
  "prune",
  "jobs",
  "unschedule",
  "doctor",
  "log",
  "key",
  "run-job",
] as const;
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
