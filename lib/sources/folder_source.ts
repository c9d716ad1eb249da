/**
 * A folder, as one standard tar stream (pax format: long and unicode names,
 * any size and time) that GNU tar and bsdtar both list and extract: its
 * files, folders (empty ones too) and symbolic links (stored as links, never
 * followed), with modes, owners and times, in a fixed order (names sorted),
 * so the same tree gives the same bytes and counts as unchanged.
 *
 * Nothing is changed: files are opened read-only and never locked, and no
 * time is reset. Each file is checked before and after it is read; a small
 * one that changed is read again at once, and a change that stays makes the
 * whole read count as changed (retried as a changing file is, see
 * run_backup.ts): a file is never silently padded or cut. Files that vanish
 * mid-run, or cannot be read or named, are left out and reported.
 */
import fs from "node:fs";
import { basename, join } from "node:path";
import { setImmediate } from "node:timers";
import type { SourceInfo } from "../backup/metadata.ts";
import { UsageError } from "../errors.ts";
import { kernelPath, kernelPseudoFolderOf } from "../io/kernel_path.ts";
import { compileExcludes, type Exclude } from "./folder/exclude.ts";
import { END_OF_ARCHIVE, paddingAfter, type TarEntry, tarHeader } from "./tar/tar_header.ts";
import type { Part } from "./part.ts";
import type { Source } from "./source.ts";

/** Bytes handed on per chunk. */
const CHUNK_SIZE = 256 * 1024;

/** Files up to this size are read whole before they are written, so a change can be read again. */
const REREAD_LIMIT = 1024 * 1024;

/** Reads of a small file that changed, before the change is let stand. */
const SMALL_FILE_TRIES = 3;

/** Chunks between two turns of the event loop (4 MiB), so signals are heard (see chunks.ts). */
const CHUNKS_PER_TURN = 16;

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;

/** What part of the folder one tar holds (see --split). */
type Scope = { kind: "all" } | { kind: "loose" } | { kind: "subfolder"; name: string };

export class FolderSource implements Source {
  readonly rereadable = true;
  readonly expectedSize = undefined;
  #changed: string[] = [];
  #leftOut: string[] = [];

  private constructor(
    readonly path: string,
    private readonly exclude: Exclude,
    private readonly scope: Scope,
  ) {}

  /**
   * Checks that `path` is a readable folder and the excludes leave something
   * of it; with `split`, one part per subfolder (`NAME.SUB`) and one for the
   * files at the top (`NAME`).
   * @throws {UsageError} when it is not
   */
  static async open(
    path: string,
    excludes: readonly string[],
    split: boolean,
    name: string,
  ): Promise<Part[]> {
    const absolute = await kernelPath(path);
    const stat = await Deno.stat(absolute).catch((error) => {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        throw new UsageError(`folder not found: ${path}`);
      }
      if (error instanceof Deno.errors.PermissionDenied) {
        throw new UsageError(`cannot read folder: ${path}: permission denied`);
      }
      throw error;
    });
    if (!stat.isDirectory) {
      throw new UsageError(`not a folder: ${path}`, "to back up one file, use --file");
    }
    const pseudo = kernelPseudoFolderOf(await Deno.realPath(absolute));
    if (pseudo) {
      throw new UsageError(
        `cannot back up ${path}: files in ${pseudo} are made by the kernel as they are read`,
      );
    }
    const exclude = compileExcludes(excludes);
    if ("problem" in exclude) throw new UsageError(exclude.problem);
    let names: string[];
    try {
      names = fs.readdirSync(absolute).sort();
    } catch {
      throw new UsageError(`cannot read folder: ${path}: permission denied`);
    }
    const kept = names.filter((entry) => {
      const isFolder = fs.lstatSync(join(absolute, entry), { throwIfNoEntry: false })
        ?.isDirectory() ?? false;
      return !exclude.matches(entry, isFolder);
    });
    if (names.length > 0 && kept.length === 0) {
      throw new UsageError(
        `the --exclude patterns leave nothing of ${path} to back up`,
        "exclude less, or check the patterns",
      );
    }
    if (!split) {
      return [{ series: name, source: new FolderSource(absolute, exclude, { kind: "all" }) }];
    }
    const subfolders = kept.filter((entry) =>
      fs.lstatSync(join(absolute, entry), { throwIfNoEntry: false })?.isDirectory()
    );
    // photos.tar splits into photos.2024.tar, photos.2025.tar ... and photos.tar for the rest.
    const [stem, suffix] = name.endsWith(".tar") ? [name.slice(0, -4), ".tar"] : [name, ""];
    return [
      ...subfolders.map((sub) => ({
        series: `${stem}.${sub}${suffix}`,
        source: new FolderSource(absolute, exclude, { kind: "subfolder", name: sub }),
      })),
      { series: name, source: new FolderSource(absolute, exclude, { kind: "loose" }) },
    ];
  }

  async *read(): AsyncGenerator<Uint8Array> {
    this.#changed = [];
    this.#leftOut = [];
    const out = new Chunker();
    const root = basename(this.path);
    let chunks = 0;
    const emit = function* (pieces: Iterable<Uint8Array>) {
      for (const piece of pieces) yield* out.write(piece);
    };
    for (const chunk of this.#archive(root, emit)) {
      yield chunk;
      if (++chunks % CHUNKS_PER_TURN === 0) await new Promise((turn) => setImmediate(turn));
    }
    yield* out.write(END_OF_ARCHIVE);
    yield* out.flush();
  }

  /** The archive's chunks: the top folder, then what the scope holds of it. */
  *#archive(
    root: string,
    emit: (pieces: Iterable<Uint8Array>) => Generator<Uint8Array>,
  ): Generator<Uint8Array> {
    const top = fs.lstatSync(this.path);
    yield* emit([tarHeader(entryOf(root, top))]);
    for (const name of fs.readdirSync(this.path).sort()) {
      const isFolder = fs.lstatSync(join(this.path, name), { throwIfNoEntry: false })
        ?.isDirectory() ?? false;
      const scope = this.scope;
      if (scope.kind === "loose" && isFolder) continue;
      if (scope.kind === "subfolder" && name !== scope.name) continue;
      yield* this.#entry(join(this.path, name), `${root}/${name}`, name, emit);
    }
  }

  /** One entry and, for a folder, all it holds (depth first, names sorted). */
  *#entry(
    absolute: string,
    inArchive: string,
    relative: string,
    emit: (pieces: Iterable<Uint8Array>) => Generator<Uint8Array>,
  ): Generator<Uint8Array> {
    if (relative.includes("\uFFFD")) {
      // Deno sees bytes that are not UTF-8 as U+FFFD, and would open another file by that name.
      this.#leftOut.push(`${relative} (its name is not valid UTF-8)`);
      return;
    }
    const stat = fs.lstatSync(absolute, { throwIfNoEntry: false });
    if (!stat) {
      this.#leftOut.push(`${relative} (it vanished while the folder was read)`);
      return;
    }
    if (this.exclude.matches(relative, stat.isDirectory())) return;
    if (stat.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.readlinkSync(absolute);
      } catch {
        this.#leftOut.push(`${relative} (it vanished while the folder was read)`);
        return;
      }
      yield* emit([tarHeader({ ...entryOf(inArchive, stat), linkTarget: target })]);
    } else if (stat.isDirectory()) {
      let names: string[];
      try {
        names = fs.readdirSync(absolute).sort();
      } catch (error) {
        this.#leftOut.push(`${relative} (${reasonOf(error)})`);
        return;
      }
      yield* emit([tarHeader(entryOf(inArchive, stat))]);
      for (const name of names) {
        yield* this.#entry(
          join(absolute, name),
          `${inArchive}/${name}`,
          `${relative}/${name}`,
          emit,
        );
      }
    } else if (stat.isFile()) {
      yield* this.#file(absolute, inArchive, relative, emit);
    } else {
      this.#leftOut.push(`${relative} (not a file, folder or link: a device, FIFO or socket)`);
    }
  }

  /** A regular file: header, exactly as many bytes as it says, padding. */
  *#file(
    absolute: string,
    inArchive: string,
    relative: string,
    emit: (pieces: Iterable<Uint8Array>) => Generator<Uint8Array>,
  ): Generator<Uint8Array> {
    let fd: number;
    try {
      fd = fs.openSync(absolute, OPEN_FLAGS);
    } catch (error) {
      const code = (error as { code?: string }).code;
      this.#leftOut.push(
        `${relative} (${
          code === "ENOENT" ? "it vanished while the folder was read" : reasonOf(error)
        })`,
      );
      return;
    }
    try {
      let before = fs.fstatSync(fd);
      if (!before.isFile()) {
        this.#changed.push(relative);
        return;
      }
      if (before.size <= REREAD_LIMIT) {
        // Read whole first: a change shows before anything is written, and is read again.
        for (let attempt = 1;; attempt++) {
          const content = new Uint8Array(before.size + 1);
          const got = readFully(fd, content, 0);
          const after = fs.fstatSync(fd);
          const held = got === before.size && same(before, after) &&
            same(after, pathStat(absolute));
          if (held || attempt === SMALL_FILE_TRIES) {
            if (!held) this.#changed.push(relative);
            const header = tarHeader(entryOf(inArchive, before));
            const exact = content.subarray(0, before.size);
            if (got < before.size) exact.fill(0, got);
            yield* emit([header, exact, new Uint8Array(paddingAfter(before.size))]);
            return;
          }
          before = after;
        }
      }
      yield* emit([tarHeader(entryOf(inArchive, before))]);
      let position = 0;
      for (const chunk of readExactly(fd, before.size)) {
        position += chunk.length;
        yield* emit([chunk]);
      }
      const after = fs.fstatSync(fd);
      if (position < before.size) {
        // Shorter than its header says: the archive must stay whole, and the read counts as changed.
        yield* emit([new Uint8Array(before.size - position)]);
      }
      if (position < before.size || !same(before, after) || !same(after, pathStat(absolute))) {
        this.#changed.push(relative);
      }
      yield* emit([new Uint8Array(paddingAfter(before.size))]);
    } finally {
      fs.closeSync(fd);
    }
  }

  changedDuringLastRead(): Promise<boolean> {
    return Promise.resolve(this.#changed.length > 0);
  }

  /** The files that changed while read, for the error or the warning. */
  whatChanged(): string | undefined {
    return this.#changed.length === 0 ? undefined : listed(this.#changed);
  }

  unexpectedlyEmpty(): undefined {
    return undefined; // a tar is never empty: it holds the folder itself
  }

  ownership(): undefined {
    return undefined; // many owners and modes: the backup is its owner's only
  }

  info(): SourceInfo {
    return { kind: "folder", path: this.path };
  }

  warnings(): string[] {
    const warnings = [];
    if (this.#leftOut.length > 0) warnings.push(`left out of the backup: ${listed(this.#leftOut)}`);
    if (this.#changed.length > 0) warnings.push(`changed while read: ${listed(this.#changed)}`);
    return warnings;
  }
}

/** A few names in full, then how many more. */
export function listed(names: string[]): string {
  const shown = names.slice(0, 10).join(", ");
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

function entryOf(path: string, stat: fs.Stats): TarEntry {
  return {
    path,
    type: stat.isDirectory() ? "directory" : stat.isSymbolicLink() ? "symlink" : "file",
    size: stat.isFile() ? stat.size : 0,
    mode: stat.mode & 0o7777,
    uid: stat.uid,
    gid: stat.gid,
    mtimeMs: stat.mtimeMs,
  };
}

/** Whether a file is as it was: size, times and identity. */
function same(a: fs.Stats, b: fs.Stats | undefined): boolean {
  return b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

function pathStat(path: string): fs.Stats | undefined {
  return fs.lstatSync(path, { throwIfNoEntry: false });
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: string }).code;
  return code === "EACCES" || code === "EPERM" ? "permission denied" : String(code ?? error);
}

/** Reads from `position` until `buffer` is full or the file ends; the bytes read. */
function readFully(fd: number, buffer: Uint8Array, position: number): number {
  let got = 0;
  while (got < buffer.length) {
    const n = fs.readSync(fd, buffer, got, buffer.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Up to `size` bytes of the file, in chunks of one reused buffer; fewer if it ends first. */
function* readExactly(fd: number, size: number): Generator<Uint8Array> {
  const buffer = new Uint8Array(CHUNK_SIZE);
  let position = 0;
  while (position < size) {
    // From where the descriptor stands (a new one: the start), so its position shows in /proc.
    const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, size - position), null);
    if (n === 0) return;
    position += n;
    yield buffer.subarray(0, n);
  }
}

/**
 * Gathers pieces (headers, contents, padding) into full chunks of one
 * reused buffer: small pieces one by one would cost the pipeline per piece.
 * A chunk is valid only until the next is asked for.
 */
class Chunker {
  readonly #buffer = new Uint8Array(CHUNK_SIZE);
  #used = 0;

  *write(bytes: Uint8Array): Generator<Uint8Array> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, CHUNK_SIZE - this.#used);
      this.#buffer.set(bytes.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === CHUNK_SIZE) {
        this.#used = 0;
        yield this.#buffer;
      }
    }
  }

  *flush(): Generator<Uint8Array> {
    if (this.#used > 0) yield this.#buffer.subarray(0, this.#used);
    this.#used = 0;
  }
}
