/**
 * Everything tinybackup prints. Results go to stdout and nothing else does,
 * so scripts can capture them; messages go to stderr, prefixed, lowercase,
 * in the manner of age. Names and messages may hold anything a file name can,
 * so every human-readable line is escaped for the terminal here, once.
 */
import type { RunError, UsageError } from "../errors.ts";
import { escapeForTerminal, jsonForTerminal } from "../terminal_text.ts";

/** Prints a result line to stdout, escaped: one line it is, whatever the names in it hold. */
export function printResult(line: string): void {
  console.log(escapeForTerminal(line));
}

/**
 * Prints the one path a backup or restore made. Scripts capture it
 * (`p=$(tinybackup ...)`) and need it exact; on a terminal a person reads it,
 * so there it is escaped, as ls does.
 */
export function printPath(path: string): void {
  console.log(Deno.stdout.isTerminal() ? escapeForTerminal(path) : path);
}

/** Prints a result as JSON to stdout: exact once parsed, and safe on a terminal too. */
export function printJson(value: unknown): void {
  console.log(jsonForTerminal(value));
}

/** Prints tinybackup's own help text, whose lines and layout are meant as they are. */
export function printHelp(text: string): void {
  console.log(text);
}

/** Prints an expected failure: one error line, and a hint line when a fix is known. */
export function printError(error: UsageError | RunError): void {
  printMessage(`error: ${error.message}`);
  for (const line of "more" in error ? error.more : []) printMessage(`error: ${line}`);
  if (error.hint) printMessage(`hint: ${error.hint}`);
}

/** Messages on stderr, as loud as the user asked for. */
export class Messages {
  constructor(private readonly quiet = false, private readonly verbose = false) {}

  /** Something the user would want to know; silenced by --quiet. */
  note(text: string): void {
    if (!this.quiet) printMessage(text);
  }

  /** Detail for --verbose. */
  detail(text: string): void {
    if (this.verbose) printMessage(text);
  }

  /** Something that may be wrong; never silenced. */
  warning(text: string): void {
    printMessage(`warning: ${text}`);
  }
}

function printMessage(text: string): void {
  console.error(`tinybackup: ${escapeForTerminal(text)}`);
}
