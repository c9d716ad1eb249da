/**
 * A backup's on_failure command: run with TINYBACKUP_BACKUP and
 * TINYBACKUP_ERROR set, its output passed on to stderr (stdout carries only
 * results), and stopped after a minute, so a hanging notifier never holds a
 * scheduled run forever. Its own failure is a warning.
 */
const TIMEOUT_MS = 60_000;
/** How long output may still come after the command ended (from what it left running). */
const DRAIN_MS = 1000;

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
      stderr: "inherit",
      // A group of its own, so the timeout stops what it started too (`sleep 99 &`).
      detached: true,
    }).spawn();
  } catch (e) {
    return `on_failure: cannot run ${argv[0]}: ${(e as Error).message}`;
  }
  const stopForwarding = new AbortController();
  const forwarded = child.stdout
    .pipeTo(Deno.stderr.writable, { preventClose: true, signal: stopForwarding.signal })
    .catch(() => {});
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // It ended just now.
    }
  }, timeoutMs);
  const { code } = await child.status.finally(() => clearTimeout(timer));
  // A process it left running may hold its stdout open: wait a little, not for it.
  const drained = setTimeout(() => stopForwarding.abort(), DRAIN_MS);
  await forwarded.finally(() => clearTimeout(drained));
  if (timedOut) {
    return `on_failure: ${argv[0]} did not end within ${timeoutMs / 1000} s; stopped it`;
  }
  return code === 0 ? undefined : `on_failure: ${argv[0]} exited with ${code}`;
}
