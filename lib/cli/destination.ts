/** The --dest folder, and which of its backups a command is about. */
import { resolve } from "node:path";
import type { Backup } from "../backup/catalog.ts";
import { METADATA_DIR } from "../backup/metadata.ts";
import { UsageError } from "../errors.ts";
import { LocalStore } from "../stores/local_store.ts";
import type { SeriesArgs } from "./args.ts";

/** Where a local destination keeps files that are not yet published. */
const STAGING_FOLDER = `${METADATA_DIR}/tmp`;

/**
 * The store for `dest`, which must be a folder; with `mustExist`, it must
 * already exist (a backup creates it, nothing else does).
 */
export async function openDestination(dest: string, mustExist: boolean): Promise<LocalStore> {
  const path = resolve(dest);
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot reach destination: ${dest}: permission denied`);
    }
    if (error instanceof Deno.errors.FilesystemLoop) {
      throw new UsageError(`destination is a loop of symbolic links: ${dest}`);
    }
    // ENOTDIR: a part of the path is a file, so the folder cannot exist.
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory)) {
      throw error;
    }
    if (mustExist || error instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`destination not found: ${dest}`);
    }
  }
  if (info && !info.isDirectory) throw new UsageError(`destination is not a folder: ${dest}`);
  return new LocalStore(path, STAGING_FOLDER);
}

/** The backups a list, verify or prune is about: one series, one file's, or all. */
export function selectBackups(backups: Backup[], args: SeriesArgs): Backup[] {
  const path = args.file === undefined ? undefined : resolve(args.file);
  return backups.filter((b) => {
    if (args.name !== undefined && b.metadata.name !== args.name) return false;
    const source = b.metadata.source;
    return path === undefined || (source.kind === "file" && source.path === path);
  });
}
