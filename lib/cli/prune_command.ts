/** `tinybackup prune`: apply a keep count to one series now. */
import { readCatalog } from "../backup/catalog.ts";
import { backupsToRotate, removeBackups } from "../backup/run_backup.ts";
import { parsePruneArgs } from "./args.ts";
import { openDestination, selectBackups } from "./destination.ts";
import { backupJson } from "./format.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printJson, printResult } from "./output.ts";

export async function pruneCommand(argv: string[]): Promise<void> {
  const args = parsePruneArgs(argv);
  if (args.help) return printHelp(helpFor("prune"));
  const store = await openDestination(args.dest, true, args.sshConfig);
  const selected = await selectBackups((await readCatalog(store)).backups, args);
  // With --file alone, each series made from that file keeps its own N.
  const names = [...new Set(selected.map((b) => b.metadata.name))];
  const doomed = [];
  for (const name of names) {
    const series = selected.filter((b) => b.metadata.name === name);
    doomed.push(...await backupsToRotate(store, series, args.keep));
  }
  if (!args.dryRun) await removeBackups(store, doomed);
  if (args.json) {
    printJson(doomed.map(backupJson));
  } else {
    for (const backup of doomed) printResult(backup.path);
  }
  const verb = args.dryRun ? "would remove" : "removed";
  new Messages().note(`${verb} ${doomed.length} of ${selected.length} backup(s)`);
}
