/**
 * An encrypted backup's stored bytes, decrypted on the way (still
 * compressed), and its metadata with the sealed part opened once the age
 * header has given up the file key. A plain backup passes through.
 */
import { type Identities, NoMatchingIdentity } from "../age/file_key.ts";
import { AgeFormatError } from "../age/header.ts";
import { ageDecrypt } from "../age/stream.ts";
import { UsageError } from "../errors.ts";
import type { Backup } from "./catalog.ts";
import { type BackupMetadata, MetadataError } from "./metadata.ts";
import { unseal } from "./sealed_metadata.ts";

/** A backup that does not decrypt as it should: damaged, truncated, or its parts swapped. */
export class UndecryptableBackup extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UndecryptableBackup";
  }
}

/**
 * None of the identities given opens the backup: most often the wrong key,
 * but a damaged header looks the same, which the stored checksum tells apart.
 */
export class WrongIdentity extends UsageError {}

/** What an encrypted backup needs before it can be read, as a usage error; undefined when it has it. */
export function missingIdentity(backup: Backup, identities?: Identities): UsageError | undefined {
  if (!backup.metadata.encryption || identities) return undefined;
  return new UsageError(
    `${backup.path} is encrypted`,
    "pass --identity KEYFILE (or --passphrase-file FILE for a backup encrypted with a passphrase)",
  );
}

export function decrypted(
  backup: Backup,
  stored: AsyncIterable<Uint8Array>,
  identities?: Identities,
): { chunks: AsyncIterable<Uint8Array>; metadata: () => BackupMetadata } {
  if (!backup.metadata.encryption) return { chunks: stored, metadata: () => backup.metadata };
  const missing = missingIdentity(backup, identities);
  if (missing) throw missing;
  let opened: BackupMetadata | undefined;
  async function* chunks() {
    try {
      yield* ageDecrypt(stored, identities!, (fileKey) => {
        opened = unseal(backup.metadata, fileKey);
      });
    } catch (error) {
      if (error instanceof NoMatchingIdentity) {
        throw new WrongIdentity(
          `cannot decrypt ${backup.path}: ${error.message}`,
          "give the identity (or passphrase) of one of the keys it was encrypted to",
        );
      }
      if (error instanceof AgeFormatError || error instanceof MetadataError) {
        throw new UndecryptableBackup(`it does not decrypt: ${error.message}`);
      }
      throw error;
    }
  }
  return {
    chunks: chunks(),
    metadata() {
      if (!opened) throw new Error("decrypted: metadata() before the header was read");
      return opened;
    },
  };
}
