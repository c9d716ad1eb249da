/**
 * Everything tinybackup prints. Results go to stdout and nothing else does,
 * so scripts can capture them; messages go to stderr, prefixed, lowercase,
 * in the manner of age.
 */
import type { RunError, UsageError } from "../errors.ts";

/** Prints a result line to stdout. */
export function printResult(line: string): void {
  console.log(line);
}

/** Prints a result as JSON to stdout. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Prints an expected failure: one error line, and a hint line when a fix is known. */
export function printError(error: UsageError | RunError): void {
  console.error(`tinybackup: error: ${error.message}`);
  if (error.hint) console.error(`tinybackup: hint: ${error.hint}`);
}

/** Messages on stderr, as loud as the user asked for. */
export class Messages {
  constructor(private readonly quiet = false, private readonly verbose = false) {}

  /** Something the user would want to know; silenced by --quiet. */
  note(text: string): void {
    if (!this.quiet) console.error(`tinybackup: ${text}`);
  }

  /** Detail for --verbose. */
  detail(text: string): void {
    if (this.verbose) console.error(`tinybackup: ${text}`);
  }

  /** Something that may be wrong; never silenced. */
  warning(text: string): void {
    console.error(`tinybackup: warning: ${text}`);
  }
}
