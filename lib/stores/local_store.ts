/**
 * A store in a local folder. Files are staged in a hidden folder, fsynced, and
 * published with link(2), which never replaces an existing name, then the
 * folder is fsynced: a crash leaves either nothing or a complete file.
 */
import { dirname, join } from "node:path";
import { UsageError } from "../errors.ts";
import { readChunks, writeAll } from "../io/chunks.ts";
import { syncFolder } from "../io/sync_folder.ts";
import type { Staged, Store } from "./store.ts";

/** Empty files prepare creates and removes at once, to learn whether a folder takes new names. */
const PROBE_PREFIX = ".tinybackup-probe-";

export class LocalStore implements Store {
  readonly location: string;

  /**
   * @param root absolute path of the folder
   * @param stagingFolder folder inside root for files not yet published
   */
  constructor(root: string, private readonly stagingFolder: string) {
    this.location = root;
  }

  pathOf(name: string): string {
    return join(this.location, name);
  }

  async prepare(): Promise<void> {
    await this.#refuseLinkedFolders();
    try {
      // 0700: backups are private, whatever the umask allows.
      await Deno.mkdir(this.pathOf(this.stagingFolder), { recursive: true, mode: 0o700 });
      // A folder that exists can still refuse new names; find out before any work.
      for (const folder of ["", dirname(this.stagingFolder), this.stagingFolder]) {
        const probe = this.pathOf(join(folder, `${PROBE_PREFIX}${crypto.randomUUID()}`));
        await Deno.writeFile(probe, new Uint8Array(), { createNew: true, mode: 0o600 });
        // Another run's clean-up (removeLeftovers) may have taken it already.
        await Deno.remove(probe).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
      }
    } catch (error) {
      if (error instanceof Deno.errors.PermissionDenied || isReadOnly(error)) {
        throw new UsageError(
          `destination is not writable: ${this.location}`,
          "choose a folder you can write to, or fix its permissions",
        );
      }
      if (
        error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists
      ) {
        throw new UsageError(`destination is not a folder: ${this.location}`);
      }
      throw error;
    }
  }

  /**
   * Refuses a symbolic link in place of the store's own folders: whoever
   * planted it would choose where staged files are written and where the
   * clean-up of leftovers deletes files. The destination itself may be a link.
   */
  async #refuseLinkedFolders(): Promise<void> {
    let folder = "";
    for (const part of this.stagingFolder.split("/")) {
      folder = join(folder, part);
      const info = await Deno.lstat(this.pathOf(folder)).catch(() => undefined);
      if (info?.isSymlink) {
        throw new UsageError(
          `${this.pathOf(folder)} is a symbolic link; tinybackup does not follow links there`,
          "remove the link; tinybackup makes that folder itself",
        );
      }
    }
  }

  stage(data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, mode: number): Promise<Staged> {
    return this.#stageWith(mode, async (file) => {
      for await (const chunk of data) writeAll(file, chunk);
    });
  }

  stageCopy(path: string, mode: number): Promise<Staged> {
    // Into the same inode, so the lock still marks it as ours.
    return this.#stageWith(mode, (_file, stagingPath) => Deno.copyFile(path, stagingPath));
  }

  /**
   * A staged file filled by `fill`, then given `mode` and fsynced; removed
   * again if any of that fails. `fill` starts before the first await, so a
   * kernel copy is under way while the caller goes on hashing.
   */
  async #stageWith(
    mode: number,
    fill: (file: Deno.FsFile, path: string) => Promise<void>,
  ): Promise<Staged> {
    const { file, path } = this.#createLockedStagingFile();
    try {
      await fill(file, path);
      await Deno.chmod(path, mode);
      await file.sync();
    } catch (error) {
      await Deno.remove(path).catch(() => {});
      file.close();
      throw error;
    }
    return new LocalStaged(this, file, path);
  }

  /**
   * A new, empty staging file, opened and locked. The lock tells
   * removeLeftovers that a live run owns the file. A cleaner may remove the
   * file between its creation and our lock, so the path is checked after.
   * Synchronous, so that a caller busy hashing on this thread right after
   * stageCopy() does not hold back the start of the copy.
   */
  #createLockedStagingFile(): { file: Deno.FsFile; path: string } {
    while (true) {
      const path = this.pathOf(join(this.stagingFolder, `${crypto.randomUUID()}.partial`));
      // 0600 from the first instant: staged bytes are never world-readable.
      const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
      file.lockSync(true);
      const onDisk = (() => {
        try {
          return Deno.statSync(path);
        } catch {
          return undefined;
        }
      })();
      if (onDisk?.ino === file.statSync().ino) return { file, path };
      file.close();
    }
  }

  async list(folder: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.pathOf(folder))) {
        if (entry.isFile) names.push(entry.name);
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      if (error instanceof Deno.errors.PermissionDenied) {
        throw new UsageError(
          `cannot read ${this.pathOf(folder)}: permission denied`,
          "fix its permissions, or run as the user whose backups these are",
        );
      }
      if (error instanceof Deno.errors.NotADirectory) {
        throw new UsageError(
          `${this.pathOf(folder)} is not a folder`,
          "move that file out of the way",
        );
      }
      throw error;
    }
    return names;
  }

  async exists(name: string): Promise<boolean> {
    try {
      await Deno.lstat(this.pathOf(name));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  readText(name: string): Promise<string> {
    return Deno.readTextFile(this.pathOf(name));
  }

  async *read(name: string): AsyncGenerator<Uint8Array> {
    using file = await Deno.open(this.pathOf(name), { read: true });
    yield* readChunks(file);
  }

  async remove(name: string): Promise<void> {
    try {
      await Deno.remove(this.pathOf(name));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  async removeIfAbandoned(
    name: string,
    stillAbandoned: () => Promise<boolean> = () => Promise.resolve(true),
  ): Promise<boolean> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.pathOf(name), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
    try {
      if (!(await file.tryLock(true)) || !(await stillAbandoned())) return false;
      await this.remove(name);
      return true;
    } finally {
      file.close();
    }
  }

  async sync(folder: string): Promise<void> {
    await syncFolder(this.pathOf(folder));
  }

  async removeLeftovers(): Promise<void> {
    for (const name of await this.list(this.stagingFolder)) {
      await this.removeIfAbandoned(join(this.stagingFolder, name));
    }
    // A run killed between creating and removing a probe (see prepare) leaves it behind.
    for (const folder of ["", dirname(this.stagingFolder)]) {
      for (const name of await this.list(folder)) {
        if (name.startsWith(PROBE_PREFIX)) await this.remove(join(folder, name));
      }
    }
  }

  /** Publishes a staged file at `path` as `name` without replacing anything. */
  async publishStaged(path: string, name: string): Promise<boolean> {
    const target = this.pathOf(name);
    try {
      await Deno.link(path, target);
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return false;
      if (!linkUnsupported(error)) throw error;
      // File systems without hard links (FAT, exFAT, some network shares):
      // rename is still atomic, but checking for an existing name first is racy.
      if (await this.exists(name)) return false;
      await Deno.rename(path, target);
    }
    await syncFolder(dirname(target));
    return true;
  }
}

class LocalStaged implements Staged {
  constructor(
    private readonly store: LocalStore,
    private readonly file: Deno.FsFile,
    private readonly path: string,
  ) {}

  publish(name: string): Promise<boolean> {
    return this.store.publishStaged(this.path, name);
  }

  async close(): Promise<void> {
    try {
      await Deno.remove(this.path);
    } catch (error) {
      // Gone already when publishing fell back to rename.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    } finally {
      this.file.close();
    }
  }
}

/** EPERM and ENOTSUP from link(2) mean the file system has no hard links; EACCES does not. */
function linkUnsupported(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" ||
    error instanceof Deno.errors.NotSupported;
}

function isReadOnly(error: unknown): boolean {
  return (error as { code?: string }).code === "EROFS";
}
