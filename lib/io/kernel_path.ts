/**
 * A path from the user, as the absolute path the kernel means by it.
 *
 * `resolve()` from node:path drops `..` by text, so with `data` a symbolic
 * link, `data/../config.yml` named another file than `cat` opens. Here the
 * kernel resolves every folder on the way (realpath), and only the last part
 * stays as given: a link given as --file keeps its own name, so its series
 * survives the link being pointed elsewhere.
 *
 * Deno turns bytes that are not UTF-8 into U+FFFD, in argv and in paths it
 * reads, so such a name would silently become another one: it is refused.
 */
import { join } from "node:path";
import { UsageError } from "../errors.ts";

/** The longest name of one folder entry, in bytes, on every system Deno runs on. */
export const NAME_MAX = 255;

/** The longest path the kernel takes, in bytes, counting its terminating NUL. */
export const PATH_MAX = Deno.build.os === "linux" ? 4096 : 1024;

/**
 * The absolute path the kernel means by `path`: its folders resolved through
 * every symbolic link and `..`, its last part as given. Where the path does
 * not exist yet (a --dest that a backup creates), the part that does is
 * resolved and the rest appended; a `..` in that rest is refused, since no
 * kernel has decided yet where it leads.
 *
 * Needs every permission: short of it, Deno itself resolves `..` by text
 * before the kernel sees the path.
 *
 * @param path a path as the user gave it, absolute or relative to the current folder
 * @returns the absolute path, without `.`, `..` or a trailing `/`
 * @throws {UsageError} when the path cannot be named exactly (not UTF-8, too
 *   long), a `..` follows a folder that does not exist, or a folder on the way
 *   cannot be searched or is a loop of links
 * @example
 * ```ts
 * await Deno.mkdir("/tmp/real/sub", { recursive: true });
 * await Deno.symlink("/tmp/real/sub", "/tmp/data");
 * await kernelPath("/tmp/data/../config.yml"); // "/tmp/real/config.yml"
 * ```
 */
export async function kernelPath(path: string): Promise<string> {
  checkNameable(path, path);
  const absolute = path.startsWith("/") ? path : `${currentFolder(path)}/${path}`;
  checkNameable(path, absolute);
  const parts = absolute.split("/").filter((part) => part !== "");
  const last = parts.at(-1);
  // `.` and `..` have no name of their own: they are the folder they lead to.
  const resolved = last === undefined || last === "." || last === ".."
    ? await realFolder(path, parts)
    : join(await realFolder(path, parts.slice(0, -1)), last);
  checkNameable(path, resolved);
  return resolved;
}

/**
 * Throws unless `candidate`, which `given` became, names exactly one file the
 * kernel accepts: valid UTF-8 (no U+FFFD), no name over NAME_MAX bytes, the
 * whole under `pathMax` bytes.
 * @throws {UsageError} saying which, in terms of `given`
 */
export function checkNameable(given: string, candidate: string, pathMax = PATH_MAX): void {
  if (candidate.includes("\uFFFD")) throw notUtf8(given);
  const longest = Math.max(...candidate.split("/").map(byteLength));
  if (longest > NAME_MAX) {
    throw new UsageError(
      `name too long: ${given}: a name in it is ${longest} bytes; file systems take ${NAME_MAX}`,
      "choose a shorter name",
    );
  }
  if (byteLength(candidate) >= pathMax) {
    throw new UsageError(
      `path too long: ${given}: this system takes paths of up to ${pathMax - 1} bytes`,
      "choose a shorter path",
    );
  }
}

/**
 * Whether `error` is the kernel's ENAMETOOLONG, for which Deno has no class:
 * a file system whose names are shorter than NAME_MAX (eCryptfs takes 143
 * bytes) refuses a name checkNameable let through.
 */
export function isNameTooLong(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === "ENAMETOOLONG";
}

/** The error for a path the kernel refused as too long (ENAMETOOLONG). */
export function tooLongForFileSystem(given: string): UsageError {
  return new UsageError(
    `name too long: ${given}: the system refuses a name in it, or the whole path, as too long`,
    "choose a shorter name",
  );
}

/**
 * The folder among /proc and /sys that `path` lies in, if any. Their files
 * are made by the kernel as they are read: their size shows as 0 or 4096
 * whatever they hold, and their content changes from one read to the next.
 */
export function kernelPseudoFolderOf(path: string): string | undefined {
  return ["/proc", "/sys"].find((folder) => path === folder || path.startsWith(`${folder}/`));
}

const encoder = new TextEncoder();

function byteLength(text: string): number {
  return encoder.encode(text).length;
}

function notUtf8(given: string): UsageError {
  return new UsageError(
    `cannot use ${given}: the path is not valid UTF-8 (or contains U+FFFD), and tinybackup cannot name such a path without risking another file`,
    "rename it to a UTF-8 name, or pipe the file in: tinybackup --stdin --name NAME --dest DIR < FILE",
  );
}

function currentFolder(given: string): string {
  try {
    return Deno.cwd();
  } catch (error) {
    if (error instanceof Deno.errors.InvalidData) throw notUtf8(given);
    throw error;
  }
}

/**
 * The real path of the folder `/parts...`, or, where it does not exist, of
 * its longest existing beginning with the rest appended.
 */
async function realFolder(given: string, parts: string[]): Promise<string> {
  for (let length = parts.length; length > 0; length--) {
    const real = await realPathIfExists(given, `/${parts.slice(0, length).join("/")}`);
    if (real !== undefined) return withMissing(given, real, parts.slice(length));
  }
  return withMissing(given, "/", parts);
}

function withMissing(given: string, real: string, missing: string[]): string {
  const rest = missing.filter((part) => part !== ".");
  if (rest.includes("..")) {
    throw new UsageError(
      `cannot use ${given}: '..' follows a folder that does not exist yet, so where it leads is not decided`,
      "create the folder first, or write the path without '..'",
    );
  }
  return join(real, ...rest);
}

/** The real path of `path`; undefined when it, or a folder on its way, does not exist. */
async function realPathIfExists(given: string, path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    // ENOTDIR: a part of the path is a file, so the rest cannot exist.
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot reach ${given}: permission denied`);
    }
    if (error instanceof Deno.errors.FilesystemLoop) {
      throw new UsageError(`cannot reach ${given}: it goes through a loop of symbolic links`);
    }
    if (error instanceof Deno.errors.InvalidData) throw notUtf8(given);
    if (isNameTooLong(error)) throw tooLongForFileSystem(given);
    throw error;
  }
}
