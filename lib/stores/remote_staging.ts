/**
 * What stores on other hosts share about files not yet published: staged
 * names that tell which machine and process upload them, when one is
 * abandoned, and the local folder for scratch files.
 *
 * A later run on the same machine removes a killed run's leftovers at once
 * (its process is gone); any other staged file only once it has not
 * changed for a while by the server's clock.
 */
import { createHash } from "node:crypto";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { writeAll } from "../io/chunks.ts";
import { createLockedFile, removeIfUnlocked } from "../io/locked_file.ts";
import { ensureStateDir } from "../schedule/state.ts";
import type { ScratchFile, Store } from "./store.ts";

/** The name of the file that tests whether a folder takes new files; a killed run may leave one. */
export const PROBE_PREFIX = ".tinybackup-probe-";

/** `MACHINE.PID.UUID.partial`: who uploads it, so that a run on the same machine can tell a dead one's. */
export function stagedName(): string {
  return `${machineTag()}.${Deno.pid}.${crypto.randomUUID()}.partial`;
}

/**
 * This machine: its host name, and a digest of its machine id where the
 * system keeps one (two machines may well share a host name).
 */
function machineTag(): string {
  const name = hostname().replace(/[^A-Za-z0-9-]/g, "_");
  for (const file of ["/etc/machine-id", "/var/lib/dbus/machine-id", "/etc/hostid"]) {
    try {
      const id = Deno.readFileSync(file);
      if (id.length > 0) {
        return `${name}-${createHash("sha256").update(id).digest("hex").slice(0, 12)}`;
      }
    } catch {
      // Not kept there.
    }
  }
  return name;
}

/**
 * Whether the staged file `name` (its last part as stagedName makes it)
 * belongs to a run that is gone: one of this machine whose process has
 * ended, or any that has not changed for `afterSeconds` by the server's
 * clock (`changed` and `serverNow`, seconds since the epoch).
 */
export function isAbandoned(
  name: string,
  changed: number | undefined,
  serverNow: number,
  afterSeconds: number,
): boolean {
  const [machine, pid] = name.slice(name.lastIndexOf("/") + 1).split(".");
  if (machine === machineTag() && /^\d+$/.test(pid ?? "") && !processAlive(Number(pid))) {
    return true;
  }
  return changed !== undefined && serverNow - changed > afterSeconds;
}

/** Whether process `pid` exists here, asked without signalling it (SIGCONT would wake a stopped one). */
function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    if (Deno.statSync("/proc/self").isDirectory) return existsSync(`/proc/${pid}`);
  } catch {
    // No /proc (macOS, BSD): ps sees every user's processes.
  }
  try {
    return new Deno.Command("ps", { args: ["-p", String(pid)], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return true; // cannot tell: the age of the file decides
  }
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The series lock of a store on another host, held on this machine (see
 * Store.tryLock): runs here of one series to one destination take turns,
 * as with a local folder. Other machines have series of their own (a
 * backup records where it was made), so they need no turn.
 */
export async function localSeriesLock(
  location: string,
  key: string,
  holder: string,
): Promise<AsyncDisposable | { heldBy: string }> {
  const folder = join(await ensureStateDir(), "locks");
  await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  const where = createHash("sha256").update(location).digest("hex").slice(0, 16);
  const path = join(folder, `${where}-${key}.lock`);
  // Never removed: removing one while another run opens it would give two locks.
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  if (!(await file.tryLock(true))) {
    file.close();
    return { heldBy: (await Deno.readTextFile(path).catch(() => "")).trim() };
  }
  await file.truncate(0);
  writeAll(file, new TextEncoder().encode(holder + "\n"));
  return { [Symbol.asyncDispose]: () => Promise.resolve(file.close()) };
}

/** A scratch file for a run to a remote store (see Store.scratchFile), in a private local folder. */
export function localScratchFile(): ScratchFile {
  return createLockedFile(() => join(localScratchFolder(), `${crypto.randomUUID()}.partial`));
}

/** Removes the local scratch files killed runs left (see localScratchFile). */
export async function removeLocalScratchLeftovers(): Promise<void> {
  const folder = localScratchFolder();
  for (const entry of await Array.fromAsync(Deno.readDir(folder))) {
    await removeIfUnlocked(join(folder, entry.name));
  }
}

/** This user's private folder for scratch files of runs to remote stores. */
function localScratchFolder(): string {
  const folder = join(tmpdir(), `tinybackup-scratch-${Deno.uid() ?? "user"}`);
  Deno.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const info = Deno.lstatSync(folder);
  if (
    !info.isDirectory || (Deno.uid() !== null && info.uid !== Deno.uid()) || (info.mode! & 0o077)
  ) {
    throw new UsageError(
      `${folder} is not a private folder of yours; tinybackup keeps scratch files there`,
      `remove it, or set TMPDIR to a folder of your own`,
    );
  }
  return folder;
}

/**
 * Removes what killed runs left in a store on another host: staged files
 * in `stagingFolder` and probes at the top, each once it is abandoned (see
 * Store.removeIfAbandoned), and the local scratch files of runs to any.
 */
export async function removeRemoteLeftovers(
  store: Pick<Store, "list" | "removeIfAbandoned">,
  stagingFolder: string,
): Promise<void> {
  for (const name of await store.list(stagingFolder)) {
    await store.removeIfAbandoned(`${stagingFolder}/${name}`);
  }
  for (const name of await store.list("")) {
    if (name.startsWith(PROBE_PREFIX)) await store.removeIfAbandoned(name);
  }
  await removeLocalScratchLeftovers();
}
