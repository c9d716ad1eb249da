/** `tinybackup prune`: apply a retention policy to one series now. */
import { readCatalog } from "../backup/catalog.ts";
import { retentionPlan } from "../backup/retention.ts";
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
  const messages = new Messages();
  // With --file alone, each series made from that file keeps its own N.
  const names = [...new Set(selected.map((b) => b.metadata.name))];
  const doomed = [];
  for (const name of names) {
    const series = selected.filter((b) => b.metadata.name === name);
    const removed = await backupsToRotate(store, series, args.retention);
    doomed.push(...removed);
    if (!args.dryRun) continue;
    // Why each backup stays: the rules that keep it, or that it is a damaged version's spare.
    const { kept } = retentionPlan(series, args.retention, new Date());
    for (const { backup, reasons } of kept) {
      messages.note(`would keep ${backup.path} (${reasons.join(", ")})`);
    }
    for (const spare of series.filter((b) => !removed.includes(b))) {
      if (!kept.some((k) => k.backup === spare)) {
        messages.note(
          `would keep ${spare.path} (a spare: the kept copy of its version is damaged)`,
        );
      }
    }
  }
  if (!args.dryRun) await removeBackups(store, doomed);
  if (args.json) {
    printJson(doomed.map(backupJson));
  } else {
    for (const backup of doomed) printResult(backup.path);
  }
  const verb = args.dryRun ? "would remove" : "removed";
  messages.note(`${verb} ${doomed.length} of ${selected.length} backup(s)`);
}
