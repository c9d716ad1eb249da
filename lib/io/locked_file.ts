/**
 * Temporary files that say whether their run is alive. Each is held with an
 * exclusive lock (flock) for as long as its run uses it; the lock dies with
 * the process, so a later run tells a killed run's leftover (unlocked) from
 * another live run's file (locked), and removes only the first.
 */
import { forgetOnInterrupt, removeOnInterrupt } from "./interrupt.ts";

/**
 * Creates a new, empty file at a path `newPath()` gives, 0600, opened for
 * writing and locked; it is removed if the process is interrupted, until
 * forgetOnInterrupt(path). A cleaner may remove the file between its
 * creation and the lock, so the path is checked after, and another tried.
 * Synchronous, so that work started right after it is not held back.
 */
export function createLockedFile(newPath: () => string): { file: Deno.FsFile; path: string } {
  while (true) {
    const path = newPath();
    // Before the file exists: a signal in between would otherwise leave it behind.
    removeOnInterrupt(path);
    let file: Deno.FsFile;
    try {
      // 0600 from the first instant: unfinished bytes are never readable by others.
      file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
    } catch (error) {
      forgetOnInterrupt(path);
      throw error;
    }
    file.lockSync(true);
    if (inodeAt(path) === file.statSync().ino) return { file, path };
    forgetOnInterrupt(path);
    file.close();
  }
}

function inodeAt(path: string): number | null | undefined {
  try {
    return Deno.statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Removes the file at `path` unless a live run holds its lock, and only if
 * `stillAbandoned`, asked while no run can take it, says so; true if removed.
 */
export async function removeIfUnlocked(
  path: string,
  stillAbandoned: () => Promise<boolean> = () => Promise.resolve(true),
): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  try {
    if (!(await file.tryLock(true)) || !(await stillAbandoned())) return false;
    await Deno.remove(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    return true;
  } finally {
    file.close();
  }
}
