/**
 * Where backups go. Every destination implements this one small interface, so
 * naming, retention, list, verify and restore are written once (the shape
 * follows restic's backends). Names are relative paths inside the store.
 */
import type { Access } from "../backup/permissions.ts";

/** Bytes written to a store but not yet visible under a name. */
export interface Staged {
  /**
   * Makes the staged bytes visible as `name` in one step, unless `name`
   * exists already (then returns false and changes nothing). Until close(),
   * the published file counts as in use, so removeIfAbandoned leaves it alone.
   */
  publish(name: string): Promise<boolean>;
  /** Drops the staged bytes and releases the handle; a published name stays. */
  close(): Promise<void>;
}

export interface Store {
  /** Where the store is, for messages. */
  readonly location: string;
  /** How a person or a script finds the stored file `name`: for a folder, its absolute path. */
  pathOf(name: string): string;
  /** Creates the store if needed; fails (UsageError) if it cannot be written. */
  prepare(): Promise<void>;
  /**
   * Streams `data` to durable storage under no visible name, readable by no
   * more than `access()` allows (and writable by nobody), where the store has
   * owners and modes. `access` is asked once all of `data` has been read:
   * who may read a source is settled only by the read itself. A chunk is
   * only valid until the next is asked for (its memory is reused), so a
   * store that keeps one must copy it.
   */
  stage(
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    access: () => Access,
  ): Promise<Staged>;
  /**
   * Like stage, but copies the local file open as `file` where the store can
   * do that faster than writing chunks (a local folder on Linux: in the
   * kernel). Stores without it are given the content through stage.
   */
  readonly stageCopy?: (file: OpenFile, access: () => Access) => Promise<Staged>;
  /**
   * An exclusive lock named `key` (letters and digits), held until disposed
   * of or until the process ends, however it ends; or, when another process
   * holds it, what that one wrote as `holder`. Stores without locks have no
   * such method.
   */
  tryLock?(key: string, holder: string): Promise<AsyncDisposable | { heldBy: string }>;
  /**
   * A new, empty local file, 0600 in a private folder, for a source's
   * temporary work (a database snapshot): on the store's own file system
   * where it has one, where space for backups is. The caller removes it,
   * then closes it; one a killed run left is removed by removeLeftovers.
   */
  scratchFile(): ScratchFile;
  /** Names of the files directly inside `folder` ("" for the top); none if it does not exist. */
  list(folder: string): Promise<string[]>;
  /** Whether `name` exists. */
  exists(name: string): Promise<boolean>;
  /** The small text file `name` (metadata), whole; throws Deno.errors.NotFound if it does not exist. */
  readText(name: string): Promise<string>;
  /** The content of `name`, in chunks; throws Deno.errors.NotFound if it does not exist. */
  read(name: string): AsyncIterable<Uint8Array>;
  /** Removes `name`; a name that is already gone is not an error. */
  remove(name: string): Promise<void>;
  /**
   * Removes `name` unless a staged handle of a live run holds it, and only
   * if `stillAbandoned`, asked while no run can take it, says so; true if removed.
   */
  removeIfAbandoned(name: string, stillAbandoned?: () => Promise<boolean>): Promise<boolean>;
  /** Makes earlier removals in `folder` durable before what comes next. */
  sync(folder: string): Promise<void>;
  /** Removes staged bytes that crashed or killed runs left behind. */
  removeLeftovers(): Promise<void>;
  /** Ends the connection of a store on another host; local stores have none. */
  close?(): Promise<void>;
}

/** A scratch file: open and locked (its lock shows its run is alive), removed on interrupt. */
export interface ScratchFile {
  file: Deno.FsFile;
  path: string;
}

/** A local file open for reading, as a source holds it. */
export interface OpenFile {
  /** The descriptor: the copy reads exactly the file the source opened, wherever its path points now. */
  fd: number;
}
