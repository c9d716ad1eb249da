/**
 * A backup's on_failure command: run with TINYBACKUP_BACKUP and
 * TINYBACKUP_ERROR set, its output passed on to stderr (stdout carries only
 * results), and stopped after a minute, so a hanging notifier never holds a
 * scheduled run forever. Its own failure is a warning.
 */
const TIMEOUT_MS = 60_000;

/** Runs `argv`; returns what went wrong with it, or undefined. */
export async function runOnFailure(
  argv: readonly string[],
  backup: string,
  error: string,
  timeoutMs = TIMEOUT_MS,
): Promise<string | undefined> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: { TINYBACKUP_BACKUP: backup, TINYBACKUP_ERROR: error },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return `on_failure: cannot run ${argv[0]}: ${(e as Error).message}`;
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It ended just now.
    }
  }, timeoutMs);
  const { code, signal, stdout, stderr } = await child.output().finally(() => clearTimeout(timer));
  await Deno.stderr.write(stdout);
  await Deno.stderr.write(stderr);
  if (signal === "SIGKILL") {
    return `on_failure: ${argv[0]} did not end within ${timeoutMs / 1000} s; stopped it`;
  }
  return code === 0 ? undefined : `on_failure: ${argv[0]} exited with ${code}`;
}
