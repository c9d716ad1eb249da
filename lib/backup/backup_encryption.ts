/** How a run encrypts its backups: as the options give it, and as the engine needs it. */
import { createHash } from "node:crypto";
import type { Recipients } from "../age/file_key.ts";
import { formatRecipient } from "../age/keys.ts";

export interface BackupEncryption {
  recipients: Recipients;
  /**
   * Who can read the backups, as a stable text (the recipients, or a hash
   * of the passphrase): part of the content tag, so a change of keys makes
   * a new backup rather than "unchanged".
   */
  readers: string;
}

export function backupEncryption(recipients: Recipients): BackupEncryption {
  const readers = recipients.kind === "passphrase"
    ? `passphrase:${createHash("sha256").update(recipients.passphrase).digest("hex")}`
    : [...new Set(recipients.points.map(formatRecipient))].sort().join(",");
  return { recipients, readers };
}

/** Who a backup is encrypted for, as given (files are read at each run). */
export interface EncryptionSpec {
  recipients: string[];
  /** Absolute paths. */
  recipientsFiles: string[];
  /** Absolute paths of identity files: encrypted to each one's public key, as age -e -i. */
  identityFiles: string[];
  /** Absolute path. */
  passphraseFile?: string;
  /** Run with sh -c; its first line of output is the passphrase. */
  passphraseCommand?: string;
}

/** What opens encrypted backups, as given. */
export interface DecryptionSpec {
  /** Absolute paths. */
  identityFiles: string[];
  passphraseFile?: string;
  passphraseCommand?: string;
}

/** Whether a job's recorded `value` is an EncryptionSpec. */
export function isEncryptionSpec(value: unknown): value is EncryptionSpec {
  const s = value as Record<string, unknown>;
  const strings = (x: unknown) => Array.isArray(x) && x.every((e) => typeof e === "string");
  return typeof s === "object" && s !== null && strings(s.recipients) &&
    strings(s.recipientsFiles) && strings(s.identityFiles) &&
    (s.passphraseFile === undefined || typeof s.passphraseFile === "string") &&
    (s.passphraseCommand === undefined || typeof s.passphraseCommand === "string");
}
