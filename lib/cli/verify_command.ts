/** `tinybackup verify`: decrypt, decompress and hash every backup, report the bad ones. */
import { readCatalog } from "../backup/catalog.ts";
import { parseBackupFileName } from "../backup/naming.ts";
import { checkBackup } from "../backup/verify.ts";
import { WrongIdentity } from "../backup/decrypted.ts";
import { RunError, UsageError } from "../errors.ts";
import { parseVerifyArgs } from "./args.ts";
import { resolveIdentities } from "./encryption_keys.ts";
import { openDestination, selectBackups } from "./destination.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printJson, printResult } from "./output.ts";

interface Verdict {
  path: string;
  name: string;
  time: string | null;
  ok: boolean;
  problem: string | null;
}

export async function verifyCommand(argv: string[]): Promise<void> {
  const args = parseVerifyArgs(argv);
  if (args.help) return printHelp(helpFor("verify"));
  const store = await openDestination(args.dest, true, args.sshConfig);
  const identities = args.decryption && await resolveIdentities(args.decryption);
  const catalog = await readCatalog(store);
  const verdicts: Verdict[] = [];
  let sealedOnly = 0;
  // Encrypted to other keys than those given: their stored bytes are checked, the rest goes on.
  let unopened = 0;
  for (const backup of await selectBackups(catalog.backups, args)) {
    if (backup.metadata.encryption && !identities) sealedOnly++;
    let problem: string | undefined;
    try {
      problem = await checkBackup(store, backup, identities);
    } catch (error) {
      if (!(error instanceof WrongIdentity)) throw error;
      unopened++;
    }
    // Removed by a concurrent rotation or prune since the catalog was read: no longer a backup.
    if (problem && !(await store.exists(backup.metadata.file))) continue;
    const { name, time } = backup.metadata;
    verdicts.push({ path: backup.path, name, time, ok: !problem, problem: problem ?? null });
  }
  // Without metadata, the series comes from the file name alone.
  for (const untrusted of catalog.untrusted) {
    const name = parseBackupFileName(untrusted.file)!.series;
    if (args.name !== undefined && name !== args.name) continue;
    verdicts.push({
      path: untrusted.path,
      name,
      time: null,
      ok: false,
      problem: untrusted.problem,
    });
  }

  if (args.json) {
    printJson(verdicts);
  } else {
    for (const v of verdicts) printResult(v.ok ? `ok   ${v.path}` : `bad  ${v.path}: ${v.problem}`);
  }
  const bad = verdicts.filter((v) => !v.ok).length;
  if (bad > 0) throw new RunError(`${bad} of ${verdicts.length} backup(s) failed verification`);
  if (unopened > 0) {
    throw new UsageError(
      `${unopened} encrypted backup(s) do not open with the identities given: only their stored bytes were checked, and are intact`,
      "give the identity (or passphrase) of a key they were encrypted to",
    );
  }
  new Messages().note(
    verdicts.length === 0
      ? `no backups found in ${store.location}`
      : `${verdicts.length} backup(s) verified${
        sealedOnly > 0
          ? `; of ${sealedOnly} encrypted one(s) only the stored bytes (pass --identity to check their content too)`
          : ""
      }`,
  );
}
