/** The --dest folder, and which of its backups a command is about. */
import { hostname } from "node:os";
import type { Backup } from "../backup/catalog.ts";
import { METADATA_DIR, originsOfFile, sourceFileOf } from "../backup/metadata.ts";
import { originTag, seriesTagKey } from "../backup/series_tags.ts";
import { UsageError } from "../errors.ts";
import {
  isNameTooLong,
  kernelPath,
  NAME_MAX,
  PATH_MAX,
  tooLongForFileSystem,
} from "../io/kernel_path.ts";
import { LocalStore } from "../stores/local_store.ts";
import { opened } from "../stores/open_stores.ts";
import type { Store } from "../stores/store.ts";
import { isFtpUrl, parseFtpUrl } from "../stores/ftp/ftp_url.ts";
import { isS3Url, parseS3Url } from "../stores/s3/s3_url.ts";
import { isSftpUrl, parseSftpUrl } from "../stores/sftp/sftp_url.ts";
import type { SeriesArgs } from "./args.ts";

/** Where a local destination keeps files that are not yet published. */
const STAGING_FOLDER = `${METADATA_DIR}/tmp`;

/** The longest path the store makes inside its folder, beyond the folder's own path. */
const DEEPEST_INSIDE = `/${STAGING_FOLDER}/`.length + NAME_MAX;

/**
 * The store for `dest`: a local folder, or an `sftp://`, `s3://`, `ftp://` or `ftps://` URL; with
 * `mustExist`, it must already exist (a backup creates it, nothing else does).
 * @param sshConfig the ssh config file for an SFTP destination (ssh -F)
 * @param retry false to try a remote host once, not again while it is down
 * @param env where an S3 destination's settings come from: this process's
 *   environment, or the one a scheduled job will run with
 */
export async function openDestination(
  dest: string,
  mustExist: boolean,
  sshConfig?: string,
  retry = true,
  env: Record<string, string> = Deno.env.toObject(),
): Promise<Store> {
  return opened(await openStore(dest, mustExist, sshConfig, retry, env));
}

async function openStore(
  dest: string,
  mustExist: boolean,
  sshConfig: string | undefined,
  retry: boolean,
  env: Record<string, string>,
): Promise<Store> {
  if (isSftpUrl(dest)) {
    const { host, path, location } = parseSftpUrl(dest);
    // Loaded only for SFTP, so that local backups never pay for it.
    const { SftpStore } = await import("../stores/sftp/sftp_store.ts");
    const store = new SftpStore(
      location,
      { ...host, ...(sshConfig === undefined ? {} : { config: sshConfig }) },
      path,
      STAGING_FOLDER,
      retry,
    );
    if (mustExist && !(await store.folderExists())) {
      throw new UsageError(`destination not found: ${dest}`);
    }
    return store;
  }
  if (isS3Url(dest)) return await openS3Destination(dest, mustExist, env);
  if (isFtpUrl(dest)) return await openFtpDestination(dest, mustExist, env);
  return await openLocalDestination(dest, mustExist);
}

async function openS3Destination(
  dest: string,
  mustExist: boolean,
  env: Record<string, string>,
): Promise<Store> {
  const { bucket, prefix, location } = parseS3Url(dest);
  // Loaded only for S3, so that other backups never pay for it.
  const [{ S3Store }, { awsSettingsHere }] = await Promise.all([
    import("../stores/s3/s3_store.ts"),
    import("../stores/s3/aws_files.ts"),
  ]);
  const settings = await awsSettingsHere(env);
  const store = new S3Store(location, settings, bucket, prefix, STAGING_FOLDER);
  if (mustExist) await store.folderExists();
  return store;
}

async function openFtpDestination(
  dest: string,
  mustExist: boolean,
  env: Record<string, string>,
): Promise<Store> {
  const destination = parseFtpUrl(dest);
  // Loaded only for FTP, so that other backups never pay for it.
  const [{ FtpStore }, { ftpSettingsHere }] = await Promise.all([
    import("../stores/ftp/ftp_store.ts"),
    import("../stores/ftp/ftp_settings.ts"),
  ]);
  const { login, ca } = await ftpSettingsHere(env, destination);
  const store = new FtpStore(destination.location, destination, login, STAGING_FOLDER, ca);
  if (mustExist && !(await store.folderExists())) {
    await store.close();
    throw new UsageError(`destination not found: ${dest}`);
  }
  return store;
}

async function openLocalDestination(dest: string, mustExist: boolean): Promise<LocalStore> {
  const path = await kernelPath(dest);
  // Refused now, not once the folders are made and the first file in them is too long.
  if (new TextEncoder().encode(path).length + DEEPEST_INSIDE >= PATH_MAX) {
    throw new UsageError(
      `destination path too long: ${dest}: the files tinybackup keeps in it would pass this system's limit of ${
        PATH_MAX - 1
      } bytes a path`,
      "choose a shorter path",
    );
  }
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
    if (isNameTooLong(error)) throw tooLongForFileSystem(dest);
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

/**
 * The backups a list, verify or prune is about: one series, one file's, or
 * all. A file is this machine's: backups other machines made of a file at
 * the same path (into a shared destination) are not its.
 */
export async function selectBackups(backups: Backup[], args: SeriesArgs): Promise<Backup[]> {
  // The same path a backup of that file records (see FileSource.open).
  const path = args.file === undefined ? undefined : await kernelPath(args.file);
  const here = hostname();
  // An encrypted backup tells its source only by a tag under this machine's key.
  const encrypted = path !== undefined && backups.some((b) => b.metadata.encryption);
  const key = encrypted ? await seriesTagKey(false) : undefined;
  const tags = key ? originsOfFile(path!).map((origin) => originTag(key, origin, here)) : [];
  return backups.filter((b) => {
    if (args.name !== undefined && b.metadata.name !== args.name) return false;
    if (path === undefined) return true;
    if (b.metadata.encryption) return tags.includes(b.metadata.encryption.originTag);
    return sourceFileOf(b.metadata.source) === path &&
      (b.metadata.madeOn === undefined || b.metadata.madeOn === here);
  });
}
