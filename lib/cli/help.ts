/** Help texts, one per command, printed to stdout by --help. */
import { DEFAULT_KEEP } from "./args.ts";
import type { CommandName } from "./args.ts";

const MAIN = `tinybackup: one file or a pipe, copied safely: compressed, checksummed, rotated.

Usage:
  tinybackup --file PATH --dest DIR [options]        back up one file now
  tinybackup --stdin --name NAME --dest DIR [opts]   back up what is piped in
  tinybackup list --dest DIR [--file PATH | --name NAME] [--json]
  tinybackup restore BACKUP [--to PATH | --to -] [--force]
  tinybackup verify --dest DIR [--file PATH | --name NAME] [--json]
  tinybackup prune --dest DIR (--file PATH | --name NAME) --keep N [--dry-run]
  tinybackup COMMAND --help | tinybackup --version

Backup options:
  --keep N          keep the N newest backups of this series (default ${DEFAULT_KEEP}; 0 keeps all)
  --compress KIND   gzip, zstd or none (default gzip)
  --name NAME       series name (default: the file's base name)
  --force           back up even when the content equals the newest backup
  --allow-changing  keep the last read of a file that never stops changing
  --dry-run         say what would happen; write and delete nothing
  --json            print a JSON object describing the result instead of the path
  -q, --quiet       print no notes, only warnings and errors
  -v, --verbose     say more about what happens

Prints the new backup's path on stdout. Exit codes: 0 success (also when the
content was unchanged), 1 the run failed, 2 bad usage or bad input.
`;

const TEXTS: Record<CommandName, string> = {
  backup: MAIN,
  list: `Usage: tinybackup list --dest DIR [--file PATH | --name NAME] [--json]

Lists the backups in DIR, newest first: time, original size, compression, path.
  --file PATH   only the backups of this file
  --name NAME   only the series NAME
  --json        a JSON array with path, name, time, size, storedSize, sha256,
                compression, source and changedWhileRead for each backup
`,
  restore: `Usage: tinybackup restore BACKUP [--to PATH | --to -] [--force]

Decompresses BACKUP, checks it against its sha256, and writes it to PATH (a
file, or a folder to put it in under its series name; default: the current
folder). Nothing is left at PATH if the check fails.
  --to -    write the content to stdout
  --force   replace PATH if it exists
`,
  verify: `Usage: tinybackup verify --dest DIR [--file PATH | --name NAME] [--json]

Decompresses and hashes every backup in DIR and compares it with its metadata.
Prints "ok" or "bad" and the path for each; exits 1 if any is bad. Files that
look like backups but have no valid metadata count as bad.
  --json   a JSON array: each backup with ok (true or false) and problem
`,
  prune: `Usage: tinybackup prune --dest DIR (--file PATH | --name NAME) --keep N [--dry-run]

Removes all but the N newest backups of one series (0 keeps all) and prints
the path of each removed backup.
  --dry-run   print what would be removed; remove nothing
  --json      a JSON array of the removed backups
`,
};

export function helpFor(command: CommandName): string {
  return TEXTS[command];
}
