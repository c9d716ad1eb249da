/**
 * A SQLite database, backed up as a consistent snapshot even while other
 * processes write to it (WAL or rollback journal): SQLite's own VACUUM INTO
 * writes the database as of one moment to a private scratch file, and that
 * file is what is read. A byte copy of a live database is often unusable;
 * this never is, and it opens the database read-only, so it writes nothing
 * to it (as any reader of a WAL database, it creates the -wal and -shm files
 * when no other connection has). The scratch file is 0600, in a private folder, and removed whatever
 * happens (a killed run's by the next run, see Store.scratchFile).
 */
import fs from "node:fs";
import type { SourceInfo } from "../backup/metadata.ts";
import type { Ownership } from "../backup/permissions.ts";
import { RunError, UsageError } from "../errors.ts";
import { readChunksReusing } from "../io/chunks.ts";
import { forgetOnInterrupt, removeOnInterrupt } from "../io/interrupt.ts";
import type { ScratchFile } from "../stores/store.ts";
import { FileSource } from "./file_source.ts";
import type { Source } from "./source.ts";
import type { SnapshotReply, SnapshotRequest } from "./sqlite_worker.ts";

/** How long the snapshot waits for a writer that holds the database locked. */
const BUSY_TIMEOUT_MS = 30_000;

/** The first 16 bytes of every SQLite 3 database file. */
const SQLITE_HEADER = "SQLite format 3\0";

/** SQLite result codes the snapshot explains (the low byte of an extended code). */
const SQLITE_BUSY = 5;
const SQLITE_READONLY = 8;
/** SQLITE_READONLY_ROLLBACK: a hot journal, which a read-only connection cannot roll back. */
const SQLITE_READONLY_ROLLBACK = 776;

export class SqliteSource implements Source {
  readonly rereadable = false;
  /** The database as the last snapshot found it, for metadata and access. */
  #stat: fs.Stats;
  #ownership: Ownership | undefined;

  private constructor(
    readonly path: string,
    stat: fs.Stats,
    private readonly scratch: () => ScratchFile,
  ) {
    this.#stat = stat;
  }

  /**
   * Checks that `path` is a readable SQLite database, by the rules of a file
   * source (see FileSource.open).
   * @param scratch makes the private file a snapshot is written to
   * @throws {UsageError} when it is not
   */
  static async open(path: string, scratch: () => ScratchFile): Promise<SqliteSource> {
    const file = await FileSource.open(path);
    const header = new Uint8Array(SQLITE_HEADER.length);
    const fd = fs.openSync(file.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      fs.readSync(fd, header, 0, header.length, 0);
      if (new TextDecoder().decode(header) !== SQLITE_HEADER) {
        throw new UsageError(
          `not a SQLite database: ${path}`,
          "to back it up byte for byte, use --file",
        );
      }
      return new SqliteSource(file.path, fs.fstatSync(fd), scratch);
    } finally {
      fs.closeSync(fd);
    }
  }

  get expectedSize(): number {
    return this.#stat.size;
  }

  async *read(): AsyncGenerator<Uint8Array> {
    const before = this.#statDatabase();
    const snapshot = this.scratch();
    // SQLite may give the snapshot a journal of its own while it writes it.
    const journal = `${snapshot.path}-journal`;
    removeOnInterrupt(journal);
    try {
      await this.#snapshotInto(snapshot.path);
      this.#settle(before);
      using reading = Deno.openSync(snapshot.path, { read: true });
      yield* readChunksReusing(reading);
    } finally {
      // Removed while still locked, so no cleaner takes it for a killed run's.
      await Deno.remove(snapshot.path).catch(() => {});
      await Deno.remove(journal).catch(() => {});
      forgetOnInterrupt(snapshot.path);
      forgetOnInterrupt(journal);
      snapshot.file.close();
    }
  }

  /** Writes the database as of one moment to `target`, in a worker (see sqlite_worker.ts). */
  async #snapshotInto(target: string): Promise<void> {
    const worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url).href, {
      type: "module",
    });
    try {
      const reply = await new Promise<SnapshotReply>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<SnapshotReply>) => resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(`the SQLite worker failed: ${event.message}`));
        };
        worker.postMessage(
          {
            database: this.path,
            target,
            busyTimeoutMs: BUSY_TIMEOUT_MS,
          } satisfies SnapshotRequest,
        );
      });
      if (reply.error) throw this.#snapshotError(reply.error);
    } finally {
      worker.terminate();
    }
  }

  #snapshotError(error: NonNullable<SnapshotReply["error"]>): RunError {
    const cannot = `cannot snapshot the SQLite database ${this.path}`;
    if (error.errcode === SQLITE_READONLY_ROLLBACK) {
      return new RunError(
        `${cannot}: a writer died mid-transaction and left a hot journal, which only a connection that may write can roll back; no backup was made`,
        "open the database once with the application (or sqlite3) to roll it back, then run again",
      );
    }
    switch ((error.errcode ?? 0) & 0xff) {
      case SQLITE_BUSY:
        return new RunError(
          `${cannot}: another process held it locked for ${
            BUSY_TIMEOUT_MS / 1000
          } s; no backup was made`,
          "run again when the database is less busy",
        );
      case SQLITE_READONLY:
        // A WAL database is read through its -shm file, which a reader must be able to create.
        return new RunError(
          `${cannot}: it is in WAL mode, and this user can neither open nor create its -shm file; no backup was made`,
          "run the backup as the database's owner, or while the application has it open",
        );
      default:
        return new RunError(`${cannot}: ${error.message}; no backup was made`);
    }
  }

  #statDatabase(): fs.Stats {
    try {
      return fs.statSync(this.path);
    } catch {
      throw new RunError(`cannot read ${this.path} any more: it is gone; no backup was made`);
    }
  }

  /**
   * Who may read the snapshot: the database as it was before and after it,
   * whichever allows less, as for a file (see FileSource.ownership).
   */
  #settle(before: fs.Stats): void {
    const after = this.#statDatabase();
    this.#stat = after;
    const same = after.uid === before.uid && after.gid === before.gid &&
      after.ino === before.ino && after.dev === before.dev;
    this.#ownership = {
      uid: before.uid,
      gid: before.gid,
      mode: same ? before.mode & after.mode & 0o7777 : 0,
    };
  }

  /** A snapshot is one moment by construction: nothing can change during it. */
  changedDuringLastRead(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** A snapshot is never empty: even an empty database has a page. */
  unexpectedlyEmpty(): undefined {
    return undefined;
  }

  ownership(): Ownership | undefined {
    return this.#ownership;
  }

  info(): SourceInfo {
    return {
      kind: "sqlite",
      path: this.path,
      mode: this.#stat.mode & 0o7777,
      mtime: this.#stat.mtime.toISOString(),
    };
  }
}
