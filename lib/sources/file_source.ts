/**
 * A regular file, read without disturbing it: opened read-only, never locked,
 * nothing about it changed. A read counts as consistent only if size, times
 * and identity are the same before and after it, and only the file the run
 * began with is ever read: a path that now names another file, a FIFO or a
 * link elsewhere fails the run instead of being backed up in its place.
 */
import fs from "node:fs";
import { basename } from "node:path";
import { RunError, UsageError } from "../errors.ts";
import { readChunksReusing } from "../io/chunks.ts";
import {
  isNameTooLong,
  kernelPath,
  kernelPseudoFolderOf,
  tooLongForFileSystem,
} from "../io/kernel_path.ts";
import type { SourceInfo } from "../backup/metadata.ts";
import type { Ownership } from "../backup/permissions.ts";
import type { OpenFile } from "../stores/store.ts";
import type { Source } from "./source.ts";

/** What must not change while the file is read: its content, and who may read it. */
interface Snapshot extends Ownership {
  size: number;
  mtime: number;
  ctime: number;
  ino: number;
  dev: number;
}

function snapshotOf(info: fs.Stats): Snapshot {
  // ctime has whole seconds only here, so mtime (milliseconds), size and the
  // inode carry most of the weight.
  return {
    size: info.size,
    mtime: info.mtimeMs,
    ctime: info.ctimeMs,
    ino: info.ino,
    dev: info.dev,
    uid: info.uid,
    gid: info.gid,
    mode: info.mode & 0o7777,
  };
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.ino === b.ino &&
    a.dev === b.dev && a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
}

/** O_NONBLOCK: opening a FIFO put in the file's place must not wait for a writer. */
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

export class FileSource implements Source {
  readonly rereadable = true;
  /** The file as the run found it: every read must be of this very file. */
  readonly #opened: fs.Stats;
  /** The file as last seen, for metadata. */
  #stat: fs.Stats;
  /** What the last read began with, how many bytes it got, and the file it has open. */
  #lastRead: { before: Snapshot; bytesRead: number; file: OpenFile } | undefined;

  private constructor(readonly path: string, stat: fs.Stats) {
    this.#opened = stat;
    this.#stat = stat;
  }

  /**
   * Checks that `path` is a readable regular file, and knows it by the path
   * the kernel means (see kernelPath).
   * @throws {UsageError} when it is missing, not a regular file, unreadable,
   *   or cannot be named exactly
   */
  static async open(path: string): Promise<FileSource> {
    const absolute = await kernelPath(path);
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(absolute);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        throw new UsageError(`file not found: ${path}`);
      }
      if (error instanceof Deno.errors.PermissionDenied) {
        throw new UsageError(`cannot read file: ${path}: permission denied`);
      }
      if (error instanceof Deno.errors.FilesystemLoop) {
        throw new UsageError(`file is a loop of symbolic links: ${path}`);
      }
      if (isNameTooLong(error)) throw tooLongForFileSystem(path);
      throw error;
    }
    if (stat.isDirectory) {
      throw new UsageError(
        `not a regular file: ${path} is a folder`,
        "tinybackup backs up one file; pass a file inside it, or archive the folder and pipe it in with --stdin",
      );
    }
    if (!stat.isFile) {
      throw new UsageError(
        `not a regular file: ${path}`,
        "for a device, pipe or socket, pipe its content in with --stdin --name NAME",
      );
    }
    // Where it really is: a link to /proc/cpuinfo is read from /proc too.
    const pseudoFolder = kernelPseudoFolderOf(await Deno.realPath(absolute));
    if (pseudoFolder) {
      throw new UsageError(
        `cannot back up ${path}: files in ${pseudoFolder} are made by the kernel as they are read (the size shows as 0 or 4096, the content changes from read to read), so no read of one can be checked`,
        `pipe it in instead: cat ${path} | tinybackup --stdin --name ${basename(path)} --dest DIR`,
      );
    }
    // Opened as every read opens it, so a FIFO put in its place since the stat cannot hang it.
    let fd: number;
    try {
      fd = fs.openSync(absolute, OPEN_FLAGS);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EACCES" || code === "EPERM") {
        throw new UsageError(`cannot read file: ${path}: permission denied`);
      }
      if (code === "ENOENT") throw new UsageError(`file not found: ${path}`);
      throw error;
    }
    try {
      const opened = fs.fstatSync(fd);
      if (!opened.isFile()) throw new UsageError(`not a regular file: ${path}`);
      return new FileSource(absolute, opened);
    } finally {
      fs.closeSync(fd);
    }
  }

  get expectedSize(): number {
    return this.#opened.size;
  }

  /** The file the current read has open, for a copy of exactly that file beside it. */
  get openFile(): OpenFile | undefined {
    const file = this.#lastRead?.file;
    return file && file.fd >= 0 ? file : undefined;
  }

  unexpectedlyEmpty(): string | undefined {
    const size = this.#opened.size;
    return size > 0
      ? `${this.path} held ${size} bytes when the run began, but was empty when read`
      : undefined;
  }

  /**
   * One pass over the file. Its descriptor stays open after the last chunk,
   * until changedDuringLastRead: a kernel copy made beside the read may
   * still be opening it through /proc/self/fd, and must never find the
   * number taken by another file.
   */
  async *read(): AsyncGenerator<Uint8Array> {
    this.#closeLastRead();
    const fd = this.#openSameFile();
    const lastRead = { before: snapshotOf(fs.fstatSync(fd)), bytesRead: 0, file: { fd } };
    this.#lastRead = lastRead;
    const reader = {
      readSync: (buffer: Uint8Array) => fs.readSync(fd, buffer, 0, buffer.length, null) || null,
    };
    for await (const chunk of readChunksReusing(reader)) {
      lastRead.bytesRead += chunk.length;
      yield chunk;
    }
  }

  #closeLastRead(): void {
    const file = this.#lastRead?.file;
    if (file && file.fd >= 0) {
      fs.closeSync(file.fd);
      file.fd = -1;
    }
  }

  /**
   * Opens the path, and checks it still names the regular file the run
   * began with: a retry after a change must never read whatever was put in
   * its place.
   * @throws {RunError} when it is gone, unreadable, or another file now
   */
  #openSameFile(): number {
    let fd: number;
    try {
      fd = fs.openSync(this.path, OPEN_FLAGS);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = code === "ENOENT" || code === "ENOTDIR" ? "it is gone" : `${code ?? error}`;
      throw new RunError(`cannot read ${this.path} any more: ${why}; no backup was made`);
    }
    const now = fs.fstatSync(fd);
    if (!now.isFile() || now.ino !== this.#opened.ino || now.dev !== this.#opened.dev) {
      fs.closeSync(fd);
      throw new RunError(
        `${this.path} was replaced by ${
          now.isFile()
            ? "another file"
            : now.isFIFO()
            ? "a FIFO"
            : "something that is not a regular file"
        } while it was backed up; no backup was made`,
        "run again once nothing swaps it; the file is backed up by the identity it had when the run began",
      );
    }
    return fd;
  }

  /**
   * Compares the file at its path now with the file as the read began. The
   * path, not the open handle, is what counts: a file replaced by rename
   * leaves the handle on the old inode, which by itself looks unchanged.
   * Asked after a kernel copy made alongside the read, it covers that too.
   */
  changedDuringLastRead(): Promise<boolean> {
    this.#closeLastRead();
    const { before, bytesRead } = this.#lastRead!;
    let now: fs.Stats;
    try {
      now = fs.statSync(this.path);
    } catch {
      return Promise.resolve(true);
    }
    this.#stat = now;
    return Promise.resolve(bytesRead !== before.size || !sameSnapshot(before, snapshotOf(now)));
  }

  /**
   * Who may read the file: as the read found it, and as its path shows it
   * now, whichever allows less. The read settles it, so a chmod while the
   * run began (or waited for a lock) counts; a change during the read also
   * makes changedDuringLastRead true.
   */
  ownership(): Ownership {
    const before = this.#lastRead!.before;
    let now: fs.Stats;
    try {
      now = fs.statSync(this.path);
    } catch {
      return { ...before, mode: 0 };
    }
    const same = now.uid === before.uid && now.gid === before.gid;
    return { ...before, mode: same ? before.mode & now.mode & 0o7777 : 0 };
  }

  info(): SourceInfo {
    return {
      kind: "file",
      path: this.path,
      mode: this.#stat.mode & 0o7777,
      mtime: this.#stat.mtime.toISOString(),
    };
  }
}
