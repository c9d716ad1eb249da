/**
 * One run at a time of each backup of a config file: a lock file in the
 * state folder, held with flock for the run's whole life (all its
 * destinations), so it dies with its process and a killed run never blocks
 * the next. An overlapping run waits up to the backup's lock_wait, then
 * says since when the other one has been running.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { RunError } from "../errors.ts";
import { ensureStateDir } from "../schedule/state.ts";
import { describeHolder } from "../backup/series_lock.ts";

const POLL_MS = 100;

export async function lockBackup(
  configPath: string,
  name: string,
  waitSeconds: number,
): Promise<Disposable> {
  const folder = join(await ensureStateDir(), "locks");
  await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  const key = createHash("sha256").update(`${configPath}\0${name}`).digest("hex").slice(0, 32);
  const path = join(folder, `${key}.lock`);
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  // The monotonic clock: a clock jump neither cuts the wait short nor makes it endless.
  const deadline = performance.now() + waitSeconds * 1000;
  try {
    while (!(await file.tryLock(true))) {
      if (performance.now() >= deadline) {
        throw new RunError(
          `another run of backup '${name}' of ${configPath} ${
            describeHolder(await Deno.readTextFile(path).catch(() => ""))
          }; this run made no backup`,
          "let it finish, or raise lock_wait; a run that was killed holds no lock",
        );
      }
      await new Promise((wake) => setTimeout(wake, POLL_MS));
    }
    await file.truncate(0);
    await file.write(
      new TextEncoder().encode(JSON.stringify({ pid: Deno.pid, since: new Date().toISOString() })),
    );
  } catch (error) {
    file.close();
    throw error;
  }
  return { [Symbol.dispose]: () => file.close() };
}
