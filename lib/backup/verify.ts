/** Checking a stored backup against its metadata, byte for byte. */
import { createHash } from "node:crypto";
import { RunError, UsageError } from "../errors.ts";
import type { Store } from "../stores/store.ts";
import type { Backup } from "./catalog.ts";
import type { Identities } from "../age/file_key.ts";
import { decompress } from "./compression.ts";
import { decrypted, UndecryptableBackup, WrongIdentity } from "./decrypted.ts";

/**
 * Reads, decrypts, decompresses and hashes a backup. Returns what is wrong
 * with it, or undefined when it restores to exactly what was backed up. An
 * encrypted backup without `identities` is checked as far as its stored
 * bytes (storedBytesProblem).
 */
export async function checkBackup(
  store: Store,
  backup: Backup,
  identities?: Identities,
): Promise<string | undefined> {
  if (backup.metadata.encryption && !identities) return await storedBytesProblem(store, backup);
  const hash = createHash("sha256");
  const stored = storedBytes(store, backup);
  const plain = decrypted(backup, stored.chunks, identities);
  let size = 0;
  try {
    for await (const chunk of decompress(plain.chunks, backup.metadata.compression)) {
      size += chunk.length;
      hash.update(chunk);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "the backup file is gone";
    if (error instanceof WrongIdentity) {
      // A header that opens for no identity given may be a damaged one.
      const damage = await storedBytesProblem(store, backup);
      if (damage) return damage;
      throw error;
    }
    // The store's own failures (a lost connection, say) are not damage.
    if (error instanceof RunError || error instanceof UsageError) throw error;
    if (error instanceof UndecryptableBackup) return error.message;
    return `it does not decompress (${error instanceof Error ? error.message : error})`;
  }
  // Bytes no decompressor reads (a gzip header's time, say) are checked too.
  const problem = stored.problem();
  if (problem) return problem;
  const m = plain.metadata();
  if (size !== m.size || hash.digest("hex") !== m.sha256) {
    return "its content does not match its sha256";
  }
  return undefined;
}

/**
 * Reads and hashes a backup's stored bytes, without decompressing: what is
 * wrong with them, or undefined when they are exactly the bytes stored.
 */
export async function storedBytesProblem(
  store: Store,
  backup: Backup,
): Promise<string | undefined> {
  const stored = storedBytes(store, backup);
  try {
    for await (const _ of stored.chunks);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "the backup file is gone";
    throw error;
  }
  return stored.problem();
}

/** The stored bytes of `backup`, counted and hashed as they are read, and a check once all are. */
function storedBytes(store: Store, backup: Backup) {
  const m = backup.metadata;
  const hash = createHash("sha256");
  let size = 0;
  async function* chunks() {
    for await (const chunk of store.read(m.file)) {
      size += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
  }
  const problem = () => {
    if (size !== m.storedSize) {
      return `the file has ${size} bytes, its metadata says ${m.storedSize}`;
    }
    if (hash.digest("hex") !== m.storedSha256) return "the file's bytes do not match their sha256";
    return undefined;
  };
  return { chunks: chunks(), problem };
}
