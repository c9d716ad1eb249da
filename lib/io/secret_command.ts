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
 * @param timeoutSeconds how long it may take: a scheduled run must not hang on it
 * @throws {SecretCommandError} when it cannot run, fails, takes too long, or prints an empty first line
 */
export async function firstLineOf(
  command: string,
  what: string,
  timeoutSeconds: number,
): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("sh", {
      args: ["-c", command],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    throw new SecretCommandError(`${what} could not be run: ${(error as Error).message}`);
  }
  const reader = child.stdout.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((done) => {
    timer = setTimeout(() => done("timeout"), timeoutSeconds * 1000);
  });
  try {
    const decoder = new TextDecoder();
    let text = "";
    while (true) {
      const next = await Promise.race([reader.read(), timedOut]);
      if (next === "timeout") {
        // Not waited for: what sh started may hold the pipe open; closing our end ends it.
        child.kill("SIGKILL");
        await reader.cancel();
        await child.status;
        throw new SecretCommandError(`${what} did not finish within ${timeoutSeconds} s`);
      }
      if (next.done) break;
      text += decoder.decode(next.value, { stream: true });
    }
    const status = await child.status;
    if (!status.success) throw new SecretCommandError(`${what} failed (exit ${status.code})`);
    const line = (text + decoder.decode()).split("\n")[0].replace(/\r$/, "");
    if (line === "") throw new SecretCommandError(`${what} printed an empty first line`);
    return line;
  } finally {
    clearTimeout(timer);
  }
}
