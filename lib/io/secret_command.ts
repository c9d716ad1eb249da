/**
 * A secret given as a command that prints it (`pass show backups`,
 * `secret-tool lookup ...`): run with `sh -c`, with no input, its stderr
 * the user's; the secret is the first line of its output. The secret never
 * touches argv, a job or a log, only this process's memory.
 */

/** What went wrong running a secret command; the message never holds its output. */
export class SecretCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretCommandError";
  }
}

/**
 * The first line `command` prints (without its line end).
 * @param what the secret, for messages: "the passphrase command"
 * @throws {SecretCommandError} when it cannot run, fails, or prints an empty first line
 */
export async function firstLineOf(command: string, what: string): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("sh", {
      args: ["-c", command],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (error) {
    throw new SecretCommandError(`${what} could not be run: ${(error as Error).message}`);
  }
  if (!output.success) throw new SecretCommandError(`${what} failed (exit ${output.code})`);
  const line = new TextDecoder().decode(output.stdout).split("\n")[0].replace(/\r$/, "");
  if (line === "") throw new SecretCommandError(`${what} printed an empty first line`);
  return line;
}
