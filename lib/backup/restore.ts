/**
 * Restoring a backup: decompress it, check its sha256 while writing, and only
 * then put it in place. A damaged backup leaves nothing at the target.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { RunError, UsageError } from "../errors.ts";
import { writeAll } from "../io/chunks.ts";
import { forgetOnInterrupt } from "../io/interrupt.ts";
import { createLockedFile, removeIfUnlocked } from "../io/locked_file.ts";
import { syncFolder } from "../io/sync_folder.ts";
import type { Store } from "../stores/store.ts";
import type { Backup } from "./catalog.ts";
import type { Identities } from "../age/file_key.ts";
import { decompress } from "./compression.ts";
import { decrypted, missingIdentity, UndecryptableBackup, WrongIdentity } from "./decrypted.ts";
import { storedBytesProblem } from "./verify.ts";
import { MetadataError, metadataPathFor, parseMetadata } from "./metadata.ts";
import { parseBackupFileName } from "./naming.ts";

/**
 * Finds the backup stored as `file` in `store`.
 * @throws {UsageError} when `file` is not a tinybackup backup
 * @throws {RunError} when its metadata is damaged
 */
export async function findBackup(store: Store, file: string): Promise<Backup> {
  const path = store.pathOf(file);
  const notABackup = new UsageError(
    `not a tinybackup backup: ${path}`,
    "restore takes a backup file that 'tinybackup list --dest FOLDER' shows",
  );
  if (!parseBackupFileName(file)) throw notABackup;
  if (!(await store.exists(file))) throw new UsageError(`backup not found: ${path}`);
  let text: string;
  try {
    text = await store.readText(metadataPathFor(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw notABackup;
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot read the metadata of ${path}: permission denied`);
    }
    throw error;
  }
  try {
    return { metadata: parseMetadata(text, file), path };
  } catch (error) {
    if (!(error instanceof MetadataError)) throw error;
    throw new RunError(
      `cannot trust ${path}: its ${error.message}`,
      "run 'tinybackup verify' on its folder",
    );
  }
}

/** The original content of `backup`, and a check to call once it has all been read. */
function contentOf(store: Store, backup: Backup, identities?: Identities) {
  const hash = createHash("sha256");
  let size = 0;
  const { file, compression } = backup.metadata;
  const plain = decrypted(backup, store.read(file), identities);
  async function* content() {
    try {
      for await (const chunk of decompress(plain.chunks, compression)) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    } catch (error) {
      // A header that opens for no identity given may be a damaged one.
      const damage = error instanceof WrongIdentity && await storedBytesProblem(store, backup);
      if (damage) {
        throw new RunError(
          `${backup.path} is damaged: ${damage}`,
          "nothing was restored; try an older backup",
        );
      }
      // The store's own failures (a lost connection, say) are not damage.
      if (
        error instanceof Deno.errors.NotFound || error instanceof Deno.errors.BrokenPipe ||
        error instanceof RunError || error instanceof UsageError
      ) {
        throw error;
      }
      if (error instanceof UndecryptableBackup) {
        throw new RunError(
          `${backup.path} is damaged: ${error.message}`,
          "nothing was restored; try an older backup",
        );
      }
      throw new RunError(
        `${backup.path} is damaged: it does not decompress (${
          error instanceof Error ? error.message : error
        })`,
        "nothing was restored; try an older backup",
      );
    }
  }
  // Known once the content has been read: an encrypted backup's checksum is sealed till then.
  const intact = () =>
    size === plain.metadata().size && hash.digest("hex") === plain.metadata().sha256;
  return { content: content(), intact, metadata: plain.metadata };
}

/** Streams the original content to stdout; exits with an error at the end if it was damaged. */
export async function restoreToStdout(
  store: Store,
  backup: Backup,
  identities?: Identities,
): Promise<void> {
  const { content, intact } = contentOf(store, backup, identities);
  for await (const chunk of content) writeAll(Deno.stdout, chunk);
  if (!intact()) {
    throw new RunError(
      `${backup.path} is damaged: what was written to stdout does not match its sha256`,
    );
  }
}

/**
 * Restores to `target`, a file path (a folder means a file in it named after
 * the series). Refuses to replace an existing file unless `force`.
 * @returns the path written
 */
export async function restoreToFile(
  store: Store,
  backup: Backup,
  target: string,
  force: boolean,
  identities?: Identities,
): Promise<string> {
  const missing = missingIdentity(backup, identities);
  if (missing) throw missing;
  const path = await targetPath(target, backup.metadata.name, force);
  const folder = dirname(path);
  await removeKilledRestores(folder);
  const { content, intact, metadata } = contentOf(store, backup, identities);
  // Short, so it fits whatever the name's length; hidden until it is complete.
  const newPartial = () => join(folder, `${PARTIAL_PREFIX}${crypto.randomUUID()}${PARTIAL_SUFFIX}`);
  let partial: { file: Deno.FsFile; path: string };
  try {
    partial = createLockedFile(newPartial);
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(
        `cannot write to ${folder}: permission denied`,
        "restore to a folder you can write to, with --to",
      );
    }
    // A folder of the kernel's (in /proc, /sys) takes no new files.
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`cannot make files in ${folder}`, "restore somewhere else, with --to");
    }
    throw error;
  }
  try {
    using file = partial.file;
    for await (const chunk of content) writeAll(file, chunk);
    if (!intact()) {
      throw new RunError(
        `${backup.path} is damaged: its content does not match its sha256`,
        "nothing was restored; try an older backup",
      );
    }
    // 0600 until it is complete and checked; then the source's own mode.
    const { source } = metadata();
    await Deno.chmod(partial.path, "mode" in source ? source.mode & 0o777 : 0o600);
    await file.sync();
    if (force) {
      await Deno.rename(partial.path, path);
    } else {
      // link(2) never replaces: a file that appeared meanwhile is kept.
      await Deno.link(partial.path, path).catch((error) => {
        if (error instanceof Deno.errors.AlreadyExists) throw existsError(path);
        throw error;
      });
    }
    await syncFolder(folder);
    return path;
  } finally {
    await Deno.remove(partial.path).catch(() => {});
    forgetOnInterrupt(partial.path);
  }
}

const PARTIAL_PREFIX = ".tinybackup-";
const PARTIAL_SUFFIX = ".partial";
const PARTIAL_NAME =
  /^\.tinybackup-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.partial$/;

/**
 * Removes what restores killed in `folder` left: their partial files, which
 * no live restore holds locked. Only this user's own are touched.
 */
async function removeKilledRestores(folder: string): Promise<void> {
  const me = Deno.uid();
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (!entry.isFile || !PARTIAL_NAME.test(entry.name)) continue;
      const path = join(folder, entry.name);
      const info = await Deno.lstat(path).catch(() => undefined);
      if (info?.isFile && info.uid === me) await removeIfUnlocked(path);
    }
  } catch (error) {
    // A folder we cannot list is reported when the restore tries to write there.
    if (!(error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound)) {
      throw error;
    }
  }
}

async function targetPath(target: string, name: string, force: boolean): Promise<string> {
  let info = await Deno.stat(target).catch(() => undefined);
  let path = target;
  if (info?.isDirectory) {
    path = join(target, name);
    info = await Deno.stat(path).catch(() => undefined);
  }
  if (info?.isDirectory) throw new UsageError(`cannot restore over a folder: ${path}`);
  if (info && !force) throw existsError(path);
  const folderInfo = await Deno.stat(dirname(path)).catch(() => undefined);
  if (!folderInfo?.isDirectory) throw new UsageError(`folder not found: ${dirname(path)}`);
  return path;
}

function existsError(path: string): UsageError {
  return new UsageError(`${path} exists`, "pass --force to replace it, or --to another path");
}
