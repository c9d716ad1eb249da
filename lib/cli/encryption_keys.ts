/**
 * Reading what the encryption options name: recipients files, identity
 * files and passphrases. A file holding a secret must be private to its
 * owner, as ssh insists for its keys: a key others can read is no longer
 * a secret, and the backups it opens are no longer private.
 */
import type { Identities, Recipients } from "../age/file_key.ts";
import { keysInText, parseIdentity, parseRecipient, publicPointOf } from "../age/keys.ts";
import { type BackupEncryption, backupEncryption } from "../backup/backup_encryption.ts";
import { RunError, UsageError } from "../errors.ts";
import { firstLineOf, SecretCommandError } from "../io/secret_command.ts";
import type { DecryptionSpec, EncryptionSpec } from "../backup/backup_encryption.ts";

/**
 * A secret (identity, passphrase) no other user may read or change; a
 * recipients file no other user may change, or they could add a key of
 * theirs and read every backup after.
 */
type Guard = "secret" | "unchangeable";

async function readKeyFile(path: string, what: string, guard: Guard): Promise<string> {
  let info: Deno.FileInfo;
  let text: string;
  try {
    info = await Deno.stat(path);
    if (!info.isFile) throw new UsageError(`the ${what} ${path} is not a file`);
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`the ${what} ${path} does not exist`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot read the ${what} ${path}: permission denied`);
    }
    throw error;
  }
  const mode = (info.mode ?? 0) & 0o777;
  const octal = mode.toString(8).padStart(4, "0");
  if (guard === "secret" && (mode & 0o077) !== 0) {
    throw new UsageError(
      `the ${what} ${path} can be read or changed by other users (mode ${octal}); refusing to use it`,
      `make it private: chmod 600 ${path}`,
    );
  }
  if (guard === "unchangeable" && (mode & 0o022) !== 0) {
    throw new UsageError(
      `the ${what} ${path} can be changed by other users (mode ${octal}), who could add a key of their own; refusing to use it`,
      `chmod go-w ${path}`,
    );
  }
  return text;
}

/** Seconds a passphrase command may take: time to touch a hardware key, not to hang a job. */
const PASSPHRASE_COMMAND_TIMEOUT = 120;

/** The first line of a passphrase file, or of a passphrase command's output. */
async function passphraseOf(spec: { passphraseFile?: string; passphraseCommand?: string }) {
  if (!spec.passphraseFile) {
    try {
      return await firstLineOf(
        spec.passphraseCommand!,
        "the passphrase command",
        PASSPHRASE_COMMAND_TIMEOUT,
      );
    } catch (error) {
      if (error instanceof SecretCommandError) throw new RunError(error.message);
      throw error;
    }
  }
  const text = await readKeyFile(spec.passphraseFile, "passphrase file", "secret");
  const passphrase = text.split("\n")[0].replace(/\r$/, "");
  if (passphrase === "") {
    throw new UsageError(`the passphrase file ${spec.passphraseFile} has an empty first line`);
  }
  return passphrase;
}

/** The recipients `spec` names, read now. */
export async function resolveEncryption(spec: EncryptionSpec): Promise<BackupEncryption> {
  if (spec.passphraseFile || spec.passphraseCommand) {
    return backupEncryption({ kind: "passphrase", passphrase: await passphraseOf(spec) });
  }
  const points = spec.recipients.map((r) => parseRecipient(r)!);
  for (const file of spec.recipientsFiles) {
    const read = keysInText(
      await readKeyFile(file, "recipients file", "unchangeable"),
      parseRecipient,
    );
    if ("badLine" in read) {
      throw new UsageError(
        `the recipients file ${file} has something other than an age public key on line ${read.badLine}`,
        "one age1... key per line; lines starting with # are comments (ssh keys are not supported)",
      );
    }
    if (read.keys.length === 0) throw new UsageError(`the recipients file ${file} holds no keys`);
    points.push(...read.keys);
  }
  const { secrets } = await identitiesIn(spec.identityFiles);
  points.push(...secrets.map(publicPointOf));
  return backupEncryption({ kind: "x25519", points } satisfies Recipients);
}

/** The identities `spec` names, read now. */
export async function resolveIdentities(spec: DecryptionSpec): Promise<Identities> {
  if (spec.passphraseFile || spec.passphraseCommand) {
    return { kind: "passphrase", passphrase: await passphraseOf(spec) };
  }
  return await identitiesIn(spec.identityFiles);
}

async function identitiesIn(files: string[]): Promise<{ kind: "x25519"; secrets: Uint8Array[] }> {
  const secrets: Uint8Array[] = [];
  for (const file of files) {
    const text = await readKeyFile(file, "identity file", "secret");
    if (text.startsWith("age-encryption.org/")) {
      throw new UsageError(
        `the identity file ${file} is itself encrypted, which tinybackup does not read`,
        `decrypt it to a private file first: age -d -o key.txt ${file}`,
      );
    }
    const read = keysInText(text, parseIdentity);
    if ("badLine" in read) {
      throw new UsageError(
        `the identity file ${file} has something other than an age secret key on line ${read.badLine}`,
        "an identity file holds AGE-SECRET-KEY-1... lines, as 'tinybackup key generate' writes",
      );
    }
    if (read.keys.length === 0) throw new UsageError(`the identity file ${file} holds no keys`);
    secrets.push(...read.keys);
  }
  return { kind: "x25519", secrets };
}
