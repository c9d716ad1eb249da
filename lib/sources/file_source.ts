/**
 * A regular file, read without disturbing it: opened read-only, never locked,
 * nothing about it changed. A read counts as consistent only if size, times
 * and identity are the same before and after it.
 */
import { basename } from "node:path";
import { UsageError } from "../errors.ts";
import { readChunksReusing } from "../io/chunks.ts";
import {
  isNameTooLong,
  kernelPath,
  kernelPseudoFolderOf,
  tooLongForFileSystem,
} from "../io/kernel_path.ts";
import type { SourceInfo } from "../backup/metadata.ts";
import type { Source } from "./source.ts";

/** What must not change while the file is read. */
interface Snapshot {
  size: number;
  mtime: number | undefined;
  ctime: number | undefined;
  ino: number | null;
  dev: number;
}

function snapshotOf(info: Deno.FileInfo): Snapshot {
  // ctime has whole seconds only here, so mtime (milliseconds), size and the
  // inode carry most of the weight.
  return {
    size: info.size,
    mtime: info.mtime?.getTime(),
    ctime: info.ctime?.getTime(),
    ino: info.ino,
    dev: info.dev,
  };
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.ino === b.ino &&
    a.dev === b.dev;
}

export class FileSource implements Source {
  readonly rereadable = true;
  readonly emptyMeansFailure = false;
  #stat: Deno.FileInfo;
  /** What the last read began with, and how many bytes it got. */
  #lastRead: { before: Snapshot; bytesRead: number } | undefined;

  private constructor(readonly path: string, stat: Deno.FileInfo) {
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
    try {
      (await Deno.open(absolute, { read: true })).close();
    } catch (error) {
      if (error instanceof Deno.errors.PermissionDenied) {
        throw new UsageError(`cannot read file: ${path}: permission denied`);
      }
      throw error;
    }
    return new FileSource(absolute, stat);
  }

  get expectedSize(): number {
    return this.#stat.size;
  }

  get localPath(): string {
    return this.path;
  }

  async *read(): AsyncGenerator<Uint8Array> {
    using file = await Deno.open(this.path, { read: true });
    const lastRead = { before: snapshotOf(await file.stat()), bytesRead: 0 };
    this.#lastRead = lastRead;
    for await (const chunk of readChunksReusing(file)) {
      lastRead.bytesRead += chunk.length;
      yield chunk;
    }
  }

  /**
   * Compares the file at its path now with the file as the read began. The
   * path, not the open handle, is what counts: a file replaced by rename
   * leaves the handle on the old inode, which by itself looks unchanged.
   * Asked after a kernel copy made alongside the read, it covers that too.
   */
  async changedDuringLastRead(): Promise<boolean> {
    const { before, bytesRead } = this.#lastRead!;
    const now = await Deno.stat(this.path).catch(() => undefined);
    if (now === undefined) return true;
    this.#stat = now;
    return bytesRead !== before.size || !sameSnapshot(before, snapshotOf(now));
  }

  info(): SourceInfo {
    return {
      kind: "file",
      path: this.path,
      mode: this.#stat.mode! & 0o7777,
      mtime: this.#stat.mtime?.toISOString() ?? new Date(0).toISOString(),
    };
  }
}
