/** `tinybackup restore BACKUP`: put a backup's content back, checked. */
import { basename, dirname } from "node:path";
import { findBackup, restoreToFile, restoreToStdout } from "../backup/restore.ts";
import { missingIdentity } from "../backup/decrypted.ts";
import { UsageError } from "../errors.ts";
import { resolveIdentities } from "./encryption_keys.ts";
import { kernelPath } from "../io/kernel_path.ts";
import { parseRestoreArgs } from "./args.ts";
import { openDestination } from "./destination.ts";
import { isFtpUrl } from "../stores/ftp/ftp_url.ts";
import { isS3Url } from "../stores/s3/s3_url.ts";
import { isSftpUrl } from "../stores/sftp/sftp_url.ts";
import { helpFor } from "./help.ts";
import { printHelp, printPath } from "./output.ts";

export async function restoreCommand(argv: string[]): Promise<void> {
  const args = parseRestoreArgs(argv);
  if (args.help) return printHelp(helpFor("restore"));
  const { store, file } = isSftpUrl(args.backup) || isFtpUrl(args.backup)
    ? await remoteBackup(args.backup, args.sshConfig)
    : isS3Url(args.backup)
    ? await s3Backup(args.backup)
    : await localBackup(args.backup);
  const backup = await findBackup(store, file);
  const identities = args.decryption && await resolveIdentities(args.decryption);
  const missing = missingIdentity(backup, identities);
  if (missing) throw missing;
  if (args.to === "-") {
    if (Deno.stdout.isTerminal()) {
      throw new UsageError(
        "refusing to write a backup's content to a terminal",
        "pipe it into a program or a file, or use --to PATH",
      );
    }
    return await restoreToStdout(store, backup, identities);
  }
  const target = await kernelPath(args.to ?? ".");
  printPath(await restoreToFile(store, backup, target, args.force, identities));
}

/** A backup given by its sftp:// or ftp(s):// URL: its destination and its name there. */
async function remoteBackup(url: string, sshConfig: string | undefined) {
  const cut = url.replace(/\/+$/, "").lastIndexOf("/");
  let file: string;
  try {
    file = decodeURIComponent(url.slice(cut + 1));
  } catch {
    throw new UsageError(`${url} has a bad %-escape`, "give the URL that list prints for it");
  }
  if (cut < url.indexOf("://") + 3 || file === "") {
    throw new UsageError(`not a backup's URL: ${url}`, "give the URL that list prints for it");
  }
  return { store: await openDestination(url.slice(0, cut), true, sshConfig), file };
}

/** A backup given by its s3:// URL: keys are not %-escaped there, as the AWS CLI takes them. */
async function s3Backup(url: string) {
  const cut = url.lastIndexOf("/");
  if (cut < "s3://".length || cut === url.length - 1) {
    throw new UsageError(`not a backup's URL: ${url}`, "give the URL that list prints for it");
  }
  return { store: await openDestination(url.slice(0, cut), true), file: url.slice(cut + 1) };
}

/** A backup given by its path here, checked to be a file this user can read. */
async function localBackup(given: string) {
  const path = await kernelPath(given);
  // A backup this user cannot read is neither missing nor damaged: say which it is.
  const unreadable = (error: unknown) => {
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot read backup: ${given}: permission denied`);
    }
  };
  const info = await Deno.stat(path).catch(unreadable);
  if (!info) throw new UsageError(`backup not found: ${given}`);
  if (!info.isFile) throw new UsageError(`not a tinybackup backup: ${given}`);
  (await Deno.open(path, { read: true }).catch((error) => {
    unreadable(error);
    throw error;
  })).close();
  return { store: await openDestination(dirname(path), true), file: basename(path) };
}
