/** `tinybackup list`: the backups in a destination, newest first. */
import { readCatalog } from "../backup/catalog.ts";
import { parseListArgs } from "./args.ts";
import { openDestination, selectBackups } from "./destination.ts";
import { backupJson, backupLine } from "./format.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printJson, printResult } from "./output.ts";

export async function listCommand(argv: string[]): Promise<void> {
  const args = parseListArgs(argv);
  if (args.help) return printHelp(helpFor("list"));
  const store = await openDestination(args.dest, true, args.sshConfig);
  const catalog = await readCatalog(store);
  const backups = await selectBackups(catalog.backups, args);
  if (args.json) {
    printJson(backups.map(backupJson));
  } else {
    for (const backup of backups) printResult(backupLine(backup));
  }
  const messages = new Messages();
  if (backups.length === 0) messages.note(`no backups found in ${store.location}`);
  if (catalog.untrusted.length > 0) {
    messages.warning(
      `${catalog.untrusted.length} file(s) look like backups but have no valid metadata; run 'tinybackup verify --dest ${args.dest}'`,
    );
  }
}
