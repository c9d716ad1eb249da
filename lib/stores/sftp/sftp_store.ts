/**
 * A store in a folder on another host, over SFTP through the system `ssh`
 * (sftp_session.ts). Files are uploaded to a hidden staging folder while
 * they are read and compressed, fsynced there (fsync@openssh.com), checked
 * for their size, and published with RENAME, which OpenSSH's server never
 * lets replace an existing name: a dropped connection or a killed run
 * leaves no visible partial, and loses no old backup.
 *
 * As in a local folder, the hidden folder is trusted only if it belongs to
 * the login user (or root) and nobody else may write it. Backups are 0400:
 * who else could read them depends on accounts on that host, unknown here.
 *
 * Staged files are named after the machine and process that upload them,
 * so a later run on the same machine removes a killed run's leftovers at
 * once; any other staged file only once it has not changed for an hour by
 * the server's clock. A run whose source is slow to give its bytes touches
 * its staged file meanwhile, so it never looks abandoned.
 */
import type { Access } from "../../backup/permissions.ts";
import { RunError, UsageError } from "../../errors.ts";
import { releaseBuffers } from "../../io/release_buffers.ts";
import type { SshHost } from "../../ssh/ssh_host.ts";
import {
  isAbandoned,
  localScratchFile,
  localSeriesLock,
  PROBE_PREFIX,
  removeRemoteLeftovers,
  stagedName,
} from "../remote_staging.ts";
import { escapeUrlPath } from "../remote_url.ts";
import type { ScratchFile, Staged, Store } from "../store.ts";
import { type Attrs, fileType, OPEN_FLAGS, S_IFDIR, S_IFREG, STATUS } from "./sftp_protocol.ts";
import { SftpError, SftpSession } from "./sftp_session.ts";

/** Requests of a transfer in flight at once: enough to fill the link, little memory (4 MiB). */
const WINDOW = 64;

/** Bytes per WRITE or READ. */
const PIECE = 64 * 1024;

/** A staged file of another host that has not changed for this long belongs to a dead run. */
const ABANDONED_AFTER_SECONDS = 3600;

/** How often an upload touches its staged file while it waits for its source. */
const HEARTBEAT_MS = 10 * 60 * 1000;

/** Free space below which a failed write is taken for a full disk. */
const FULL_BELOW = 2 * WINDOW * PIECE;

export class SftpStore implements Store {
  #session: SftpSession | undefined;
  /** The folder, absolute on the host, once connected. */
  #root = "";
  /** The login's uid there, where it can be told: what may own the store's own folders. */
  #uid: number | undefined;
  #checked = false;
  /** The server's clock less ours, in seconds, once a file was made there (prepare). */
  #clockOffset = 0;

  /**
   * @param location the destination as the user gave it (the URL)
   * @param path the folder on the host: absolute, or `~/...` for one in the login's home
   * @param stagingFolder folder inside the hidden folder for files not yet published
   */
  constructor(
    readonly location: string,
    private readonly host: SshHost,
    private readonly path: string,
    private readonly stagingFolder: string,
    /** false to try to connect only once (see SftpSession.open). */
    private readonly retry = true,
  ) {}

  /** The URL of `name`, %-escaped as URLs are: restore reads it back. */
  pathOf(name: string): string {
    return [this.location.replace(/\/+$/, ""), escapeUrlPath(name)].join("/");
  }

  /** The session, connected on first use, and the folder resolved. */
  async #connected(): Promise<SftpSession> {
    if (this.#session) return this.#session;
    const session = await SftpSession.open(this.host, this.retry);
    this.#uid = await loginUid(session);
    this.#root = this.path.startsWith("~/") || this.path === "~"
      ? `${(await session.realpath(".")).replace(/\/+$/, "")}/${this.path.slice(2)}`.replace(
        /\/+$/,
        "",
      )
      : this.path.replace(/\/+$/, "") || "/";
    this.#session = session;
    return session;
  }

  #remote(name: string): string {
    return name === "" ? this.#root : `${this.#root}/${name}`;
  }

  /** Whether the folder exists there (for commands that only read). */
  async folderExists(): Promise<boolean> {
    const session = await this.#connected();
    const found = await session.stat(this.#root).catch((error) => {
      throw this.#usage(error, `cannot reach ${this.location}`);
    });
    return fileType(found ?? {}) === S_IFDIR;
  }

  /** Closes the connection, if one was made. */
  async close(): Promise<void> {
    await this.#session?.[Symbol.asyncDispose]();
    this.#session = undefined;
  }

  async prepare(): Promise<void> {
    const session = await this.#connected();
    const internal = this.stagingFolder.split("/")[0];
    for (const folder of ["", internal, this.stagingFolder]) {
      await this.#makeFolder(session, this.#remote(folder), folder === "" ? 0o755 : 0o700);
    }
    // Both folders take new names; the first probe also tells who we are
    // there (its owner) and the server's time (its mtime).
    for (const folder of ["", this.stagingFolder]) {
      const probe = this.#remote(
        `${folder === "" ? "" : `${folder}/`}${PROBE_PREFIX}${crypto.randomUUID()}`,
      );
      const handle = await session.open(
        probe,
        OPEN_FLAGS.WRITE | OPEN_FLAGS.CREATE | OPEN_FLAGS.EXCLUSIVE,
        { permissions: 0o600 },
      ).catch((error) => {
        throw this.#usage(error, `cannot write to ${this.pathOf(folder)}`);
      });
      const made = await session.fstat(handle);
      await session.close(handle);
      await session.remove(probe);
      if (folder === "") {
        this.#uid = made.uid ?? this.#uid;
        if (made.mtime !== undefined) this.#clockOffset = made.mtime - Date.now() / 1000;
        // Made just now, or found: either way, checked now that who we are is known.
        this.#checked = false;
        await this.#checkInternalFolders();
      }
    }
  }

  /** Seconds since the epoch by the server's clock, as near as it is known. */
  #serverNow(): number {
    return Date.now() / 1000 + this.#clockOffset;
  }

  async #makeFolder(session: SftpSession, path: string, permissions: number): Promise<void> {
    const found = await session.stat(path).catch((error) => {
      throw this.#usage(error, `cannot reach ${this.location}`);
    });
    if (found) {
      if (fileType(found) !== S_IFDIR) {
        throw new UsageError(`not a folder: ${path} on ${this.location}`);
      }
      return;
    }
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    if (parent !== path && !(await session.stat(parent))) {
      await this.#makeFolder(session, parent, permissions);
    }
    await session.mkdir(path, permissions).catch((error) => {
      throw this.#usage(error, `cannot create ${path} on ${this.location}`);
    });
  }

  /**
   * The folders leading to the store are ours or root's, and nobody else
   * may write them unless they are sticky (as /tmp is); the hidden folder
   * and its staging folder are ours alone.
   */
  async #checkInternalFolders(): Promise<void> {
    if (this.#checked) return;
    const session = await this.#connected();
    for (const folder of foldersUpTo(this.#root)) {
      const found = await session.stat(folder).catch(() => undefined);
      if (!found) continue; // not made yet (prepare makes it), or not ours to see
      const mode = (found.permissions ?? 0) & 0o7777;
      if (this.#foreign(found)) {
        throw new UsageError(
          `${folder} on ${this.location} belongs to another user (uid ${found.uid}), who could swap the backups there`,
          "back up to a folder of your own",
        );
      }
      if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) {
        throw new UsageError(
          `${folder} on ${this.location} can be written by ${
            (mode & 0o002) !== 0 ? "anyone" : "its group"
          } (mode 0${mode.toString(8)}), who could swap the backups there`,
          `make it private with chmod go-w ${folder}, or sticky with chmod +t ${folder}`,
        );
      }
    }
    const internal = this.stagingFolder.split("/")[0];
    for (const folder of [internal, this.stagingFolder]) {
      const found = await session.stat(this.#remote(folder), false);
      if (found) this.#refuseUntrusted(this.#remote(folder), found);
    }
    this.#checked = true;
  }

  /** Whether `attrs` say another user than the login (or root) owns the file. */
  #foreign(attrs: Attrs): boolean {
    return this.#uid !== undefined && attrs.uid !== undefined && attrs.uid !== this.#uid &&
      attrs.uid !== 0;
  }

  #refuseUntrusted(path: string, attrs: Attrs): void {
    if (this.#foreign(attrs)) {
      throw new UsageError(
        `${path} on ${this.location} belongs to another user (uid ${attrs.uid}); tinybackup trusts only its own metadata`,
        "log in as the user who made these backups, or back up to a folder of your own",
      );
    }
    const mode = (attrs.permissions ?? 0) & 0o7777;
    if ((mode & 0o022) !== 0) {
      throw new UsageError(
        `${path} on ${this.location} can be written by ${
          (mode & 0o002) !== 0 ? "anyone" : "its group"
        } (mode 0${mode.toString(8)}), so its backups cannot be trusted`,
        `make it private there: chmod go-w ${path}`,
      );
    }
  }

  /**
   * A server's refusal as bad input (exit 2) where it is one (no such
   * folder, permission denied), else as a failure of the run (exit 1).
   */
  #usage(error: unknown, what: string): Error {
    if (error instanceof SftpError) {
      if (error.code === STATUS.PERMISSION_DENIED) {
        return new UsageError(
          `${what}: permission denied`,
          "check the folder's owner and mode there",
        );
      }
      if (error.code === STATUS.NO_SUCH_FILE) return new UsageError(`${what}: no such folder`);
      return new RunError(`${what}: ${error.message}`);
    }
    return error as Error;
  }

  async stage(
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    _access: () => Access,
  ): Promise<Staged> {
    const session = await this.#connected();
    const name = `${this.stagingFolder}/${stagedName()}`;
    const path = this.#remote(name);
    const handle = await session.open(
      path,
      OPEN_FLAGS.WRITE | OPEN_FLAGS.CREATE | OPEN_FLAGS.EXCLUSIVE,
      { permissions: 0o600 },
    );
    // Touched while the source is slow, so that no other run takes it for abandoned.
    const heartbeat = setInterval(() => {
      session.setTime(handle, Math.floor(this.#serverNow())).catch(() => {});
    }, HEARTBEAT_MS);
    Deno.unrefTimer(heartbeat);
    try {
      let offset = 0;
      // The first write that fails fails the upload; those in flight after it are only awaited.
      let failure: unknown;
      const inFlight: Promise<void>[] = [];
      for await (const chunk of data) {
        for (let at = 0; at < chunk.length; at += PIECE) {
          // A copy: the chunk's memory is reused once the next is asked for.
          const piece = chunk.slice(at, Math.min(chunk.length, at + PIECE));
          inFlight.push(
            session.write(handle, offset, piece).catch((error) => {
              failure ??= error;
            }),
          );
          offset += piece.length;
          // Each piece and its packet are garbage once written (see releaseBuffers).
          if (offset % (WINDOW * PIECE) < piece.length) releaseBuffers();
          if (inFlight.length >= WINDOW) await inFlight.shift();
          if (failure) throw await this.#writeFailure(session, failure);
        }
      }
      await Promise.all(inFlight);
      if (failure) throw await this.#writeFailure(session, failure);
      if (session.extensions.has("fsync@openssh.com")) await session.fsync(handle);
      // Read-only for its owner, as every backup: who else could read it there is unknown here.
      await session.setPermissions(handle, 0o400);
      const stored = await session.fstat(handle);
      if (stored.size !== offset) {
        throw new RunError(
          `${this.location} stored ${stored.size} bytes of the ${offset} sent; no backup was made`,
          "check the free space there, then run again",
        );
      }
    } catch (error) {
      await session.close(handle).catch(() => {});
      await session.remove(path).catch(() => {});
      throw error instanceof SftpError
        ? new RunError(`cannot upload to ${this.location}: ${error.message}; no backup was made`)
        : error;
    } finally {
      clearInterval(heartbeat);
    }
    await session.close(handle);
    return new SftpStaged(this, session, path);
  }

  /** A failed WRITE, as the full disk it most often is (the server says only "Failure"). */
  async #writeFailure(session: SftpSession, error: unknown): Promise<unknown> {
    if (!(error instanceof SftpError)) return error;
    const free = await session.freeBytes(this.#root).catch(() => undefined);
    if (free !== undefined && free < FULL_BELOW) {
      return new RunError(
        `the disk of ${this.location} is full; nothing was left half-written and no backup was removed`,
        "free some space there and run again",
      );
    }
    return error;
  }

  /** Renames `path` to `name` unless `name` exists; true when it is published. */
  async publish(session: SftpSession, path: string, name: string): Promise<boolean> {
    try {
      await session.rename(path, this.#remote(name));
      return true;
    } catch (error) {
      if (error instanceof SftpError && (await session.stat(this.#remote(name), false))) {
        return false; // the name is taken: RENAME never replaces
      }
      throw this.#usage(error, `cannot publish ${name} in ${this.location}`);
    }
  }

  tryLock(key: string, holder: string): Promise<AsyncDisposable | { heldBy: string }> {
    return localSeriesLock(this.location, key, holder);
  }

  scratchFile(): ScratchFile {
    return localScratchFile();
  }

  async list(folder: string): Promise<string[]> {
    const session = await this.#connected();
    if (folder !== "") await this.#checkInternalFolders();
    try {
      return (await session.readdir(this.#remote(folder)))
        .filter((entry) => fileType(entry.attrs) === S_IFREG)
        .map((entry) => entry.name);
    } catch (error) {
      if (error instanceof SftpError && error.code === STATUS.NO_SUCH_FILE) return [];
      throw this.#usage(error, `cannot list ${this.pathOf(folder)}`);
    }
  }

  async exists(name: string): Promise<boolean> {
    return (await (await this.#connected()).stat(this.#remote(name), false)) !== undefined;
  }

  async readText(name: string): Promise<string> {
    const session = await this.#connected();
    await this.#checkInternalFolders();
    const found = await session.stat(this.#remote(name), false);
    if (!found) throw new Deno.errors.NotFound(`${this.pathOf(name)} not found`);
    this.#refuseUntrusted(this.#remote(name), found);
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of this.read(name)) text += decoder.decode(chunk, { stream: true });
    return text + decoder.decode();
  }

  async *read(name: string): AsyncGenerator<Uint8Array> {
    const session = await this.#connected();
    let handle: Uint8Array;
    try {
      handle = await session.open(this.#remote(name), OPEN_FLAGS.READ);
    } catch (error) {
      if (error instanceof SftpError && error.code === STATUS.NO_SUCH_FILE) {
        throw new Deno.errors.NotFound(`${this.pathOf(name)} not found`);
      }
      throw this.#usage(error, `cannot read ${this.pathOf(name)}`);
    }
    let ahead: { at: number; data: Promise<Uint8Array | undefined> }[] = [];
    try {
      const size = (await session.fstat(handle)).size ?? Infinity;
      // Reads ahead of the one being handed on, in order; `next` is where the last one asked ends.
      let next = 0;
      const refill = () => {
        while (ahead.length < WINDOW && next < size) {
          const data = session.read(handle, next, PIECE);
          // Handled here too: when the reader stops early, or the first to fail
          // fails the read, those behind it are only waited for (below).
          data.catch(() => {});
          ahead.push({ at: next, data });
          next += PIECE;
        }
      };
      refill();
      while (ahead.length > 0) {
        const { at, data: reading } = ahead.shift()!;
        const data = await reading;
        if (data === undefined) break; // the end, sooner than the size said
        if (data.length < PIECE && at + data.length < size) {
          // A short read mid-file: what follows is asked for again from where it stopped.
          await Promise.allSettled(ahead.map((a) => a.data));
          ahead = [];
          next = at + data.length;
        }
        yield data;
        refill();
      }
    } finally {
      await Promise.allSettled(ahead.map((a) => a.data));
      await session.close(handle).catch(() => {});
    }
  }

  async remove(name: string): Promise<void> {
    const session = await this.#connected();
    try {
      await session.remove(this.#remote(name));
    } catch (error) {
      if (!(error instanceof SftpError && error.code === STATUS.NO_SUCH_FILE)) {
        throw this.#usage(error, `cannot remove ${this.pathOf(name)}`);
      }
    }
  }

  async removeIfAbandoned(
    name: string,
    stillAbandoned: () => Promise<boolean> = () => Promise.resolve(true),
  ): Promise<boolean> {
    const session = await this.#connected();
    const found = await session.stat(this.#remote(name), false);
    if (
      !found || !isAbandoned(name, found.mtime, this.#serverNow(), ABANDONED_AFTER_SECONDS) ||
      !(await stillAbandoned())
    ) {
      return false;
    }
    await this.remove(name);
    return true;
  }

  /** Nothing to do: every file is fsynced before it is published, and SFTP cannot sync folders. */
  sync(_folder: string): Promise<void> {
    return Promise.resolve();
  }

  async removeLeftovers(): Promise<void> {
    await removeRemoteLeftovers(this, this.stagingFolder);
  }
}

class SftpStaged implements Staged {
  #published = false;

  constructor(
    private readonly store: SftpStore,
    private readonly session: SftpSession,
    private readonly path: string,
  ) {}

  async publish(name: string): Promise<boolean> {
    this.#published = await this.store.publish(this.session, this.path, name);
    return this.#published;
  }

  async close(): Promise<void> {
    if (this.#published) return;
    await this.session.remove(this.path).catch(() => {});
  }
}

/**
 * The login's uid on the host: the owner of its sftp-server's /proc/self
 * where there is one, else of its home unless that is root's (a chroot's).
 */
async function loginUid(session: SftpSession): Promise<number | undefined> {
  const self = await session.stat("/proc/self").catch(() => undefined);
  if (self?.uid !== undefined) return self.uid;
  const home = await session.stat(".").catch(() => undefined);
  return home?.uid === 0 ? undefined : home?.uid;
}

/** `folder` and every folder above it, up to /. */
function foldersUpTo(folder: string): string[] {
  const folders = [folder];
  while (folders.at(-1) !== "/") {
    folders.push(folders.at(-1)!.slice(0, folders.at(-1)!.lastIndexOf("/")) || "/");
  }
  return folders;
}
