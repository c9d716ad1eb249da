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
 * Staged files are named after the host and process that upload them, so a
 * later run on the same host removes a killed run's leftovers at once, and
 * another host's only once they have not grown for an hour.
 */
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { Access } from "../../backup/permissions.ts";
import { RunError, UsageError } from "../../errors.ts";
import { createLockedFile, removeIfUnlocked } from "../../io/locked_file.ts";
import type { SshHost } from "../../ssh/ssh_host.ts";
import type { ScratchFile, Staged, Store } from "../store.ts";
import { type Attrs, fileType, OPEN_FLAGS, S_IFDIR, S_IFREG, STATUS } from "./sftp_protocol.ts";
import { SftpError, SftpSession } from "./sftp_session.ts";

/** Requests of a transfer in flight at once: enough to fill the link, little memory (4 MiB). */
const WINDOW = 64;

/** Bytes per WRITE or READ. */
const PIECE = 64 * 1024;

/** A staged file of another host that has not changed for this long belongs to a dead run. */
const ABANDONED_AFTER_SECONDS = 3600;

const PROBE_PREFIX = ".tinybackup-probe-";

/** Free space below which a failed write is taken for a full disk. */
const FULL_BELOW = 2 * WINDOW * PIECE;

export class SftpStore implements Store {
  #session: SftpSession | undefined;
  /** The folder, absolute on the host, once connected. */
  #root = "";
  #uid: number | undefined;
  #checked = false;

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
  ) {}

  pathOf(name: string): string {
    return `${this.location.replace(/\/+$/, "")}/${name}`;
  }

  /** The session, connected on first use, and the folder resolved. */
  async #connected(): Promise<SftpSession> {
    if (this.#session) return this.#session;
    const session = await SftpSession.open(this.host);
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
    return fileType(await session.stat(this.#root) ?? {}) === S_IFDIR;
  }

  async prepare(): Promise<void> {
    const session = await this.#connected();
    const internal = this.stagingFolder.split("/")[0];
    for (const folder of ["", internal, this.stagingFolder]) {
      await this.#makeFolder(session, this.#remote(folder), folder === "" ? 0o755 : 0o700);
    }
    // The folder takes new names (the probe), and who we are there: the probe's owner.
    const probe = this.#remote(`${PROBE_PREFIX}${crypto.randomUUID()}`);
    const handle = await session.open(
      probe,
      OPEN_FLAGS.WRITE | OPEN_FLAGS.CREATE | OPEN_FLAGS.EXCLUSIVE,
      { permissions: 0o600 },
    ).catch((error) => {
      throw this.#usage(error, `cannot write to ${this.location}`);
    });
    this.#uid = (await session.fstat(handle)).uid;
    await session.close(handle);
    await session.remove(probe);
    await this.#checkInternalFolders();
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

  /** The hidden folder and its staging folder are ours, and nobody else may write them. */
  async #checkInternalFolders(): Promise<void> {
    if (this.#checked) return;
    const session = await this.#connected();
    const internal = this.stagingFolder.split("/")[0];
    for (const folder of [internal, this.stagingFolder]) {
      const found = await session.stat(this.#remote(folder), false);
      if (found) this.#refuseUntrusted(this.#remote(folder), found);
    }
    this.#checked = true;
  }

  #refuseUntrusted(path: string, attrs: Attrs): void {
    if (
      this.#uid !== undefined && attrs.uid !== undefined && attrs.uid !== this.#uid &&
      attrs.uid !== 0
    ) {
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

  /** A server's refusal as bad input (exit 2) where it is one, else the error itself. */
  #usage(error: unknown, what: string): Error {
    if (error instanceof SftpError) {
      if (error.code === STATUS.PERMISSION_DENIED) {
        return new UsageError(
          `${what}: permission denied`,
          "check the folder's owner and mode there",
        );
      }
      if (error.code === STATUS.NO_SUCH_FILE) return new UsageError(`${what}: no such folder`);
      return new UsageError(`${what}: ${error.message}`);
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

  scratchFile(): ScratchFile {
    return createLockedFile(() => join(localScratchFolder(), `${crypto.randomUUID()}.partial`));
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
    try {
      const size = (await session.fstat(handle)).size ?? Infinity;
      // Reads ahead of the one being handed on, in order; `next` is where the last one asked ends.
      let next = 0;
      let ahead: { at: number; data: Promise<Uint8Array | undefined> }[] = [];
      const refill = () => {
        while (ahead.length < WINDOW && next < size) {
          ahead.push({ at: next, data: session.read(handle, next, PIECE) });
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
    if (!found || !isAbandoned(name, found) || !(await stillAbandoned())) return false;
    await this.remove(name);
    return true;
  }

  /** Nothing to do: every file is fsynced before it is published, and SFTP cannot sync folders. */
  sync(_folder: string): Promise<void> {
    return Promise.resolve();
  }

  async removeLeftovers(): Promise<void> {
    for (const name of await this.list(this.stagingFolder)) {
      await this.removeIfAbandoned(`${this.stagingFolder}/${name}`);
    }
    for (const name of await this.list("")) {
      if (name.startsWith(PROBE_PREFIX)) await this.removeIfAbandoned(name);
    }
    // Scratch files a killed run left here (see scratchFile).
    for (const entry of await Array.fromAsync(Deno.readDir(localScratchFolder()))) {
      await removeIfUnlocked(join(localScratchFolder(), entry.name));
    }
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

/** `HOST.PID.UUID.partial`: who uploads it, so that a run on the same host can tell a dead one's. */
function stagedName(): string {
  return `${hostname().replace(/[^A-Za-z0-9-]/g, "_")}.${Deno.pid}.${crypto.randomUUID()}.partial`;
}

/**
 * Whether a staged file belongs to a run that is gone: one of this host
 * whose process has ended, or one that has not changed for an hour.
 */
function isAbandoned(name: string, attrs: Attrs): boolean {
  const [host, pid] = name.slice(name.lastIndexOf("/") + 1).split(".");
  if (host === hostname().replace(/[^A-Za-z0-9-]/g, "_") && /^\d+$/.test(pid ?? "")) {
    return !processAlive(Number(pid));
  }
  return attrs.mtime !== undefined && Date.now() / 1000 - attrs.mtime > ABANDONED_AFTER_SECONDS;
}

function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.kill(pid, "SIGCONT"); // harmless to a running process: only asks whether it exists
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
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
