/**
 * A store in a local folder. Files are staged in a hidden folder, fsynced, and
 * published with link(2), which never replaces an existing name, then the
 * folder is fsynced: a crash leaves either nothing or a complete file.
 *
 * Everything below the top folder (metadata, staging, locks) is trusted only
 * if it belongs to the running user (or root) and nobody else may write it:
 * whoever could write there could plant backups that list, verify and
 * restore would take for real, and that rotation would keep instead of ours.
 * The same goes for the top folder and every folder above it: whoever could
 * rename an entry in one of them could swap the whole hidden folder, after
 * any check, for one of their own (a sticky folder, as /tmp is, lets nobody
 * rename what is not theirs).
 */
import { dirname, join } from "node:path";
import { type Access, accessProblem } from "../backup/permissions.ts";
import { RunError, UsageError } from "../errors.ts";
import { readChunks, writeAll } from "../io/chunks.ts";
import { forgetOnInterrupt, removeOnInterrupt } from "../io/interrupt.ts";
import { createLockedFile, removeIfUnlocked } from "../io/locked_file.ts";
import { hasAccessAcl, removeAccessAcl } from "../io/posix_acl.ts";
import { syncFolder } from "../io/sync_folder.ts";
import type { OpenFile, ScratchFile, Staged, Store } from "./store.ts";

/** Empty files prepare creates and removes at once, to learn whether a folder takes new names. */
const PROBE_PREFIX = ".tinybackup-probe-";

/**
 * Bytes written between flushes of a staged file to disk while it is still
 * being written. The disk then writes while the run reads, hashes and
 * compresses, and the fsync before publishing waits for the last few MiB
 * only: for 256 MiB it took 1-20 ms instead of 100-140 ms here.
 */
const FLUSH_EVERY = 32 * 1024 * 1024;

export class LocalStore implements Store {
  readonly location: string;
  /** The hidden folder holding everything but the backups themselves. */
  readonly #internal: string;
  readonly #locks: string;
  /** Whether the internal folders were found trustworthy (see #checkInternalFolders). */
  #checked = false;

  /**
   * @param root absolute path of the folder
   * @param stagingFolder folder inside root's hidden folder for files not yet published
   */
  constructor(root: string, private readonly stagingFolder: string) {
    this.location = root;
    this.#internal = dirname(stagingFolder);
    this.#locks = join(this.#internal, "locks");
  }

  pathOf(name: string): string {
    return join(this.location, name);
  }

  async prepare(): Promise<void> {
    await this.#refuseLinkedFolders();
    try {
      // 0700: backups are private, whatever the umask allows.
      await Deno.mkdir(this.pathOf(this.stagingFolder), { recursive: true, mode: 0o700 });
      // Made just now, or found: either way, checked after mkdir, which takes what it finds.
      this.#checked = false;
      await this.#checkInternalFolders();
      await this.#makePrivate();
      // A folder that exists can still refuse new names; find out before any work.
      for (const folder of ["", this.#internal, this.stagingFolder]) {
        const probe = this.pathOf(join(folder, `${PROBE_PREFIX}${crypto.randomUUID()}`));
        // Registered before it exists, as staged files are: a signal then leaves nothing.
        removeOnInterrupt(probe);
        try {
          await Deno.writeFile(probe, new Uint8Array(), { createNew: true, mode: 0o600 });
          // Another run's clean-up (removeLeftovers) may have taken it already.
          await Deno.remove(probe).catch((error) => {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          });
        } finally {
          forgetOnInterrupt(probe);
        }
      }
      await Deno.mkdir(this.pathOf(this.#locks), { recursive: true, mode: 0o700 });
      this.#checked = false;
      await this.#checkInternalFolders();
      await this.#makePrivate();
    } catch (error) {
      if (error instanceof Deno.errors.PermissionDenied || isReadOnly(error)) {
        throw new UsageError(
          `destination is not writable: ${this.location}`,
          "choose a folder you can write to, or fix its permissions",
        );
      }
      // A folder of the kernel's (in /proc, /sys) takes no new folders.
      if (error instanceof Deno.errors.NotFound) {
        throw new UsageError(
          `cannot make folders in ${this.location}`,
          "choose another destination",
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
   * Gives the internal folders mode 0700 where they have more (made by
   * hand, say): a file the kernel copies takes its source's mode while it
   * fills, and only its folder keeps that private. Those not this user's
   * are root's, which this user cannot write into anyway.
   */
  async #makePrivate(): Promise<void> {
    for (const folder of [this.#internal, this.stagingFolder, this.#locks]) {
      const info = await Deno.lstat(this.pathOf(folder)).catch(() => undefined);
      if (info && info.uid === Deno.uid() && (info.mode! & 0o077) !== 0) {
        await Deno.chmod(this.pathOf(folder), 0o700);
      }
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

  /**
   * Checks the folders leading to the store and every internal folder that
   * exists (see the top of this file), once, before anything inside them is
   * trusted.
   * @throws {UsageError} when one is not the running user's alone
   */
  async #checkInternalFolders(): Promise<void> {
    if (this.#checked) return;
    await this.#checkPathToStore();
    for (const folder of [this.#internal, this.stagingFolder, this.#locks]) {
      const path = this.pathOf(folder);
      let info: Deno.FileInfo;
      try {
        info = await Deno.lstat(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) continue;
        if (error instanceof Deno.errors.PermissionDenied) {
          throw new UsageError(
            `cannot read ${dirname(path)}: permission denied`,
            "fix its permissions, or run as the user whose backups these are",
          );
        }
        throw error;
      }
      if (info.isSymlink) await this.#refuseLinkedFolders();
      if (!info.isDirectory) {
        throw new UsageError(
          `${path} is not a folder`,
          "move it out of the way; tinybackup makes that folder itself",
        );
      }
      refuseUntrusted(path, info, "folder");
    }
    this.#checked = true;
  }

  /**
   * Refuses a store that someone else could swap (see the top of this file):
   * the folder, the one it links to if it is a link, and every folder above.
   */
  async #checkPathToStore(): Promise<void> {
    const real = await Deno.realPath(this.location).catch(() => undefined);
    const folders = new Set([...foldersUpTo(this.location), ...(real ? foldersUpTo(real) : [])]);
    for (const folder of folders) {
      const info = await Deno.stat(folder).catch(() => undefined);
      // Not made yet (prepare makes it), or not reachable: other checks say so.
      if (!info) continue;
      const mode = info.mode! & 0o7777;
      const me = Deno.uid();
      if (me !== null && info.uid !== null && info.uid !== me && info.uid !== 0) {
        throw new UsageError(
          `${folder} belongs to another user (uid ${info.uid}), who could swap the backups in ${this.location}`,
          "back up to a folder of your own",
        );
      }
      if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) {
        throw new UsageError(
          `${folder} can be written by ${(mode & 0o002) !== 0 ? "anyone" : "its group"} (mode 0${
            mode.toString(8)
          }), who could swap the backups in ${this.location}`,
          `make it private with chmod go-w ${folder}, or sticky (as /tmp is) with chmod +t ${folder}`,
        );
      }
    }
  }

  stage(
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    access: () => Access,
  ): Promise<Staged> {
    return this.#stageWith(access, async (file) => {
      let unflushed = 0;
      let flushing: Promise<void> | undefined;
      let flushFailure: unknown;
      try {
        for await (const chunk of data) {
          writeAll(file, chunk);
          unflushed += chunk.length;
          if (unflushed >= FLUSH_EVERY && !flushing) {
            unflushed = 0;
            // Its failure must fail the backup: a later fsync may not report it again.
            flushing = file.syncData()
              .catch((error) => void (flushFailure ??= error))
              .finally(() => flushing = undefined);
          }
        }
      } finally {
        // Not closed or removed under a flush still running.
        await flushing;
      }
      if (flushFailure !== undefined) throw flushFailure;
    });
  }

  /**
   * Linux only: there /proc/self/fd names the very file the source has open,
   * and the copy fills the staged file in place. Elsewhere Deno's copyFile
   * reads the path and (on macOS) replaces the target with a new file, which
   * would be neither the file hashed nor the one locked.
   */
  readonly stageCopy = Deno.build.os === "linux"
    ? (source: OpenFile, access: () => Access): Promise<Staged> => {
      const staged = this.#stageWith(
        access,
        (_file, stagingPath) => Deno.copyFile(`/proc/self/fd/${source.fd}`, stagingPath),
      );
      // The caller reads the file meanwhile and awaits this only then: a copy
      // failing before that (the disk full) is not unhandled, only not yet heard.
      staged.catch(() => {});
      return staged;
    }
    : undefined;

  /**
   * A staged file filled by `fill`, then given its access and fsynced;
   * removed again if any of that fails. `fill` starts before the first
   * await, so a kernel copy is under way while the caller goes on hashing.
   */
  async #stageWith(
    access: () => Access,
    fill: (file: Deno.FsFile, path: string) => Promise<void>,
  ): Promise<Staged> {
    const { file, path } = this.#createLockedStagingFile();
    try {
      await fill(file, path);
      await this.#applyAccess(file, path, access());
      await file.sync();
    } catch (error) {
      await Deno.remove(path).catch(() => {});
      forgetOnInterrupt(path);
      file.close();
      throw error;
    }
    return new LocalStaged(this, file, path);
  }

  /**
   * Gives a staged file the group and mode `access` asks for, and checks the
   * file system kept them: some (FAT, some network shares) ignore modes.
   * The group is set where this user may (its own groups; root any);
   * otherwise the mode for another group applies.
   */
  async #applyAccess(file: Deno.FsFile, path: string, access: Access): Promise<void> {
    if (access.gid !== null && (await file.stat()).gid !== access.gid) {
      await Deno.chown(path, null, access.gid).catch((error) => {
        if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
      });
    }
    const gid = (await file.stat()).gid!;
    await Deno.chmod(path, gid === access.gid ? access.mode : access.modeInOtherGroup);
    const actual = await file.stat();
    const problem = accessProblem(access, { uid: actual.uid!, gid, mode: actual.mode! }) ??
      (hasAccessAcl(path) ? "it keeps an access ACL that could not be removed" : undefined);
    if (problem) {
      throw new UsageError(
        `${this.location} cannot keep backups private: a file written there ${problem}`,
        "back up to a file system that keeps Unix permissions (not FAT or a share that ignores them)",
      );
    }
  }

  /**
   * A new, empty staging file, opened and locked (the lock tells
   * removeLeftovers that a live run owns it), without any ACL inherited
   * from its folder.
   */
  #createLockedStagingFile(): { file: Deno.FsFile; path: string } {
    const staged = createLockedFile(() =>
      this.pathOf(join(this.stagingFolder, `${crypto.randomUUID()}.partial`))
    );
    removeAccessAcl(staged.path);
    return staged;
  }

  scratchFile(): ScratchFile {
    return this.#createLockedStagingFile();
  }

  async tryLock(key: string, holder: string): Promise<AsyncDisposable | { heldBy: string }> {
    const path = this.pathOf(join(this.#locks, `${key}.lock`));
    // Lock files are never removed: removing one while another run opens it would give two locks.
    const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    if (!(await file.tryLock(true))) {
      file.close();
      return { heldBy: (await Deno.readTextFile(path).catch(() => "")).trim() };
    }
    await file.truncate(0);
    writeAll(file, new TextEncoder().encode(holder + "\n"));
    return { [Symbol.asyncDispose]: () => Promise.resolve(file.close()) };
  }

  async list(folder: string): Promise<string[]> {
    if (folder !== "") await this.#checkInternalFolders();
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

  /** Reads a metadata file, trusted only as its folder is (see the top of this file). */
  async readText(name: string): Promise<string> {
    await this.#checkInternalFolders();
    // In a trusted folder nobody else can swap the file between these two calls.
    refuseUntrusted(this.pathOf(name), await Deno.lstat(this.pathOf(name)), "file");
    return await Deno.readTextFile(this.pathOf(name));
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

  removeIfAbandoned(name: string, stillAbandoned?: () => Promise<boolean>): Promise<boolean> {
    return removeIfUnlocked(this.pathOf(name), stillAbandoned);
  }

  async sync(folder: string): Promise<void> {
    await syncFolder(this.pathOf(folder));
  }

  async removeLeftovers(): Promise<void> {
    for (const name of await this.list(this.stagingFolder)) {
      await this.removeIfAbandoned(join(this.stagingFolder, name));
    }
    // A run killed between creating and removing a probe (see prepare) leaves it behind.
    for (const folder of ["", this.#internal]) {
      for (const name of await this.list(folder)) {
        if (name.startsWith(PROBE_PREFIX)) await this.remove(join(folder, name));
      }
    }
  }

  /**
   * Publishes the staged file `file` at `path` as `name` without replacing
   * anything, then checks that the name holds that very file, as private
   * as it was staged.
   */
  async publishStaged(file: Deno.FsFile, path: string, name: string): Promise<boolean> {
    const target = this.pathOf(name);
    const staged = await file.stat();
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
    const published = await Deno.lstat(target).catch(() => undefined);
    if (published?.ino !== staged.ino || published.mode !== staged.mode) {
      throw new RunError(
        `${target} changed as it was published; check who else writes to ${this.location}`,
      );
    }
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
    return this.store.publishStaged(this.file, this.path, name);
  }

  async close(): Promise<void> {
    try {
      await Deno.remove(this.path);
    } catch (error) {
      // Gone already when publishing fell back to rename.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    } finally {
      forgetOnInterrupt(this.path);
      this.file.close();
    }
  }
}

/**
 * Refuses an internal file or folder another user could have written: owned
 * by someone other than this user or root, or writable by group or others.
 */
function refuseUntrusted(path: string, info: Deno.FileInfo, what: "file" | "folder"): void {
  const me = Deno.uid();
  if (me !== null && info.uid !== null && info.uid !== me && info.uid !== 0) {
    throw new UsageError(
      `${path} belongs to another user (uid ${info.uid}); tinybackup trusts only its own metadata`,
      what === "folder"
        ? "run tinybackup as the user who made these backups, or back up to a folder of your own"
        : `if you did not put it there, remove it; see who else can write to ${dirname(path)}`,
    );
  }
  const mode = info.mode! & 0o7777;
  if ((mode & 0o022) !== 0) {
    throw new UsageError(
      `${path} can be written by ${(mode & 0o002) !== 0 ? "anyone" : "its group"} (mode 0${
        mode.toString(8)
      }), so its backups cannot be trusted`,
      `make it private: chmod go-w ${path}`,
    );
  }
}

/** EPERM and ENOTSUP from link(2) mean the file system has no hard links; EACCES does not. */
function linkUnsupported(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" ||
    error instanceof Deno.errors.NotSupported;
}

/** `folder` and every folder above it, up to the root. */
function foldersUpTo(folder: string): string[] {
  const folders = [folder];
  while (dirname(folders.at(-1)!) !== folders.at(-1)) folders.push(dirname(folders.at(-1)!));
  return folders;
}

function isReadOnly(error: unknown): boolean {
  return (error as { code?: string }).code === "EROFS";
}
