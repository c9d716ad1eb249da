/**
 * Where tinybackup keeps state of its own: the run log and cancellation
 * marks. `$XDG_STATE_HOME/tinybackup`, else `~/.local/state/tinybackup`;
 * `~/Library/Logs/tinybackup` on macOS.
 */
import { join } from "node:path";
import { RunError } from "../errors.ts";

export function stateDir(): string {
  const xdg = Deno.env.get("XDG_STATE_HOME");
  if (xdg) return join(xdg, "tinybackup");
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new RunError("neither XDG_STATE_HOME nor HOME is set: nowhere to keep the run log");
  }
  return Deno.build.os === "darwin"
    ? join(home, "Library", "Logs", "tinybackup")
    : join(home, ".local", "state", "tinybackup");
}

/** The state folder, created private if needed. */
export async function ensureStateDir(): Promise<string> {
  const dir = stateDir();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
