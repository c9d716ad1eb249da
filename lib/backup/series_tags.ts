/**
 * Keyed tags that let an encrypted series be told apart and found
 * unchanged without telling the storage holder its source or a checksum of
 * its content: an HMAC under a key only this machine (this user) holds. A
 * checksum, or a hash of a guessable path, would let anyone with the files
 * confirm a guess; the tag does not.
 *
 * The key lives in the state folder. Lost, the next run of an encrypted
 * series cannot recognise its backups: see seriesBackups' hint.
 */
import { createHmac, randomBytes } from "node:crypto";
import { join } from "node:path";
import { syncFolder } from "../io/sync_folder.ts";
import { UsageError } from "../errors.ts";
import { ensureStateDir, stateDir } from "../schedule/state.ts";
import { originOf, type SourceInfo } from "./metadata.ts";

const KEY_FILE = "series-tag.key";

/** The file holding this machine's tag key, for messages. */
export function tagKeyPath(): string {
  return join(stateDir(), KEY_FILE);
}

/**
 * This machine's tag key; made (once, whatever runs race) when `create`,
 * else undefined when there is none yet.
 */
export async function seriesTagKey(create: boolean): Promise<Uint8Array | undefined> {
  const path = tagKeyPath();
  const existing = await readKey(path);
  if (existing || !create) return existing;
  const dir = await ensureStateDir();
  const staged = join(dir, `${KEY_FILE}.${crypto.randomUUID()}.tmp`);
  try {
    // On disk before it has its name: a key lost to a power cut loses every encrypted series.
    using file = await Deno.open(staged, { write: true, createNew: true, mode: 0o600 });
    await file.write(new TextEncoder().encode(Buffer.from(randomBytes(32)).toString("hex") + "\n"));
    await file.sync();
    // link, not rename: a key another run made first is kept, and both runs use it.
    await Deno.link(staged, path).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
    await syncFolder(dir);
  } finally {
    await Deno.remove(staged).catch(() => {});
  }
  return (await readKey(path))!;
}

async function readKey(path: string): Promise<Uint8Array | undefined> {
  let text: string;
  try {
    text = (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(
        `cannot read this machine's tag key for encrypted series, ${path}: permission denied`,
        "run as the user whose state folder it is, or set XDG_STATE_HOME to your own",
      );
    }
    throw error;
  }
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new UsageError(
      `${path} is not a tinybackup tag key (64 hex digits)`,
      "restore it from a backup of the state folder; removed, a new one is made, and encrypted series made with the old one need a new --name",
    );
  }
  return new Uint8Array(Buffer.from(text, "hex"));
}

function tag(key: Uint8Array, purpose: string, value: string): string {
  return createHmac("sha256", key).update(`${purpose}\n${value}`).digest("hex");
}

/**
 * The tag of a source's series origin (see originOf), or of an origin
 * itself, made on `host`: as a plain backup's madeOn does, the host keeps
 * machines that share a tag key (one home folder on NFS, a cloned VM) from
 * rotating each other's backups.
 */
export function originTag(key: Uint8Array, source: SourceInfo | string, host: string): string {
  const origin = typeof source === "string" ? source : originOf(source);
  return tag(key, "origin", JSON.stringify([origin, host]));
}

/**
 * The tag of a content (its identityOf) as encrypted to `readers` (who can
 * decrypt it): the same content for other readers is a new backup, so that
 * a changed key takes effect at the next run.
 */
export function contentTag(key: Uint8Array, identity: string, readers: string): string {
  return tag(key, "content", JSON.stringify([identity, readers]));
}
