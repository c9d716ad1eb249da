/** Checking a stored backup against its metadata, byte for byte. */
import { createHash } from "node:crypto";
import type { Store } from "../stores/store.ts";
import type { Backup } from "./catalog.ts";
import { decompress } from "./compression.ts";

/**
 * Reads, decompresses and hashes a backup. Returns what is wrong with it, or
 * undefined when it restores to exactly what was backed up.
 */
export async function checkBackup(store: Store, backup: Backup): Promise<string | undefined> {
  const m = backup.metadata;
  const hash = createHash("sha256");
  const storedHash = createHash("sha256");
  let storedSize = 0;
  let size = 0;
  async function* counted() {
    for await (const chunk of store.read(m.file)) {
      storedSize += chunk.length;
      storedHash.update(chunk);
      yield chunk;
    }
  }
  try {
    for await (const chunk of decompress(counted(), m.compression)) {
      size += chunk.length;
      hash.update(chunk);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "the backup file is gone";
    return `it does not decompress (${error instanceof Error ? error.message : error})`;
  }
  if (storedSize !== m.storedSize) {
    return `the file has ${storedSize} bytes, its metadata says ${m.storedSize}`;
  }
  // Bytes no decompressor reads (a gzip header's time, say) are checked too.
  if (storedHash.digest("hex") !== m.storedSha256) {
    return "the file's bytes do not match their sha256";
  }
  if (size !== m.size || hash.digest("hex") !== m.sha256) {
    return "its content does not match its sha256";
  }
  return undefined;
}
