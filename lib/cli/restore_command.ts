/** `tinybackup restore BACKUP`: put a backup's content back, checked. */
import { basename, dirname } from "node:path";
import { findBackup, restoreToFile, restoreToStdout } from "../backup/restore.ts";
import { UsageError } from "../errors.ts";
import { kernelPath } from "../io/kernel_path.ts";
import { parseRestoreArgs } from "./args.ts";
import { openDestination } from "./destination.ts";
import { helpFor } from "./help.ts";
import { printHelp, printPath } from "./output.ts";

export async function restoreCommand(argv: string[]): Promise<void> {
  const args = parseRestoreArgs(argv);
  if (args.help) return printHelp(helpFor("restore"));
  const path = await kernelPath(args.backup);
  // A backup this user cannot read is neither missing nor damaged: say which it is.
  const unreadable = (error: unknown) => {
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot read backup: ${args.backup}: permission denied`);
    }
  };
  const info = await Deno.stat(path).catch(unreadable);
  if (!info) throw new UsageError(`backup not found: ${args.backup}`);
  if (!info.isFile) throw new UsageError(`not a tinybackup backup: ${args.backup}`);
  (await Deno.open(path, { read: true }).catch((error) => {
    unreadable(error);
    throw error;
  })).close();
  const store = await openDestination(dirname(path), true);
  const backup = await findBackup(store, basename(path));
  if (args.to === "-") {
    if (Deno.stdout.isTerminal()) {
      throw new UsageError(
        "refusing to write a backup's content to a terminal",
        "pipe it into a program or a file, or use --to PATH",
      );
    }
    return await restoreToStdout(store, backup);
  }
  const target = await kernelPath(args.to ?? ".");
  printPath(await restoreToFile(store, backup, target, args.force));
}
