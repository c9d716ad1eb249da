/**
 * The encryption options, checked from the arguments alone:
 * `--recipient`, `--recipients-file`, `--passphrase-file` and
 * `--passphrase-command` for a backup; `--identity` and the passphrase
 * options for restore and verify. A passphrase itself never goes on the
 * command line, where other users and the shell history could read it.
 */
import { resolve } from "node:path";
import { parseRecipient } from "../age/keys.ts";
import type { DecryptionSpec, EncryptionSpec } from "../backup/backup_encryption.ts";
import { UsageError } from "../errors.ts";

export const ENCRYPTION_OPTIONS = {
  recipient: { type: "string", multiple: true },
  // As age -e -i: to the public key of each identity in the file.
  identity: { type: "string", multiple: true, short: "i" },
  "recipients-file": { type: "string", multiple: true },
  "passphrase-file": { type: "string" },
  "passphrase-command": { type: "string" },
} as const;

export const DECRYPTION_OPTIONS = {
  identity: { type: "string", multiple: true, short: "i" },
  "passphrase-file": { type: "string" },
  "passphrase-command": { type: "string" },
} as const;

interface OptionValues {
  string(option: string): string | undefined;
  strings(option: string): string[];
}

function passphraseArgs(
  v: OptionValues,
): Pick<EncryptionSpec, "passphraseFile" | "passphraseCommand"> {
  const file = v.string("passphrase-file");
  const command = v.string("passphrase-command");
  if (file === "") throw new UsageError("--passphrase-file is empty");
  if (command !== undefined && command.trim() === "") {
    throw new UsageError("--passphrase-command is empty");
  }
  if (file !== undefined && command !== undefined) {
    throw new UsageError("give --passphrase-file or --passphrase-command, not both");
  }
  return {
    ...(file === undefined ? {} : { passphraseFile: resolve(file) }),
    ...(command === undefined ? {} : { passphraseCommand: command }),
  };
}

function paths(v: OptionValues, option: string): string[] {
  const given = v.strings(option);
  if (given.some((path) => path === "")) throw new UsageError(`--${option} is empty`);
  return given.map((path) => resolve(path));
}

/** The encryption a backup's options ask for; undefined for none. */
export function encryptionArgs(v: OptionValues): EncryptionSpec | undefined {
  const recipients = v.strings("recipient");
  for (const recipient of recipients) {
    if (!parseRecipient(recipient)) {
      throw new UsageError(
        // A secret key given by mistake is not repeated: stderr may go to a log or mail.
        recipient.startsWith("AGE-SECRET-KEY-")
          ? "--recipient must be an age public key, age1... (got a secret key)"
          : `--recipient must be an age public key, age1... (got '${recipient}')`,
        recipient.startsWith("AGE-SECRET-KEY-")
          ? "that is a secret key: give its public key (tinybackup key generate prints it), and keep the secret key away from the backups"
          : "make a key with 'tinybackup key generate' (or age-keygen); its public key starts with age1",
      );
    }
  }
  const recipientsFiles = paths(v, "recipients-file");
  const identityFiles = paths(v, "identity");
  const passphrase = passphraseArgs(v);
  const withPassphrase = Object.keys(passphrase).length > 0;
  const keys = recipients.length + recipientsFiles.length + identityFiles.length;
  if (withPassphrase && keys > 0) {
    throw new UsageError(
      "a passphrase cannot go with recipients: age encrypts with one or the other",
      "to let a second person or a spare key read the backups, give several --recipient keys",
    );
  }
  if (!withPassphrase && keys === 0) return undefined;
  return { recipients, recipientsFiles, identityFiles, ...passphrase };
}

/** What restore or verify is told opens encrypted backups; undefined for nothing. */
export function decryptionArgs(v: OptionValues): DecryptionSpec | undefined {
  const identityFiles = paths(v, "identity");
  const passphrase = passphraseArgs(v);
  if (identityFiles.length > 0 && Object.keys(passphrase).length > 0) {
    throw new UsageError("give --identity or a passphrase option, not both");
  }
  if (identityFiles.length === 0 && Object.keys(passphrase).length === 0) return undefined;
  return { identityFiles, ...passphrase };
}
