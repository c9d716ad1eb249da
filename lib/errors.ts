/**
 * The two kinds of expected failure. Anything else that escapes a command is a
 * bug and is reported as one.
 */

/**
 * Bad usage or bad input: exit code 2, and nothing was written or deleted.
 * `more` holds further problems found at the same time (a config file's),
 * each printed as an error line of its own.
 */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string, readonly more: readonly string[] = []) {
    super(message);
    this.name = "UsageError";
  }
}

/** Something went wrong while doing the work: exit code 1. */
export class RunError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "RunError";
  }
}

/** Maps an error to the exit code a user sees. */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof UsageError ? 2 : 1;
}
