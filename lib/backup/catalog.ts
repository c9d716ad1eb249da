/**
 * What a destination holds: its backups with valid metadata, and everything
 * that looks like a backup but cannot be trusted. Only the trusted backups
 * are ever listed as such, rotated or restored.
 */
import type { Store } from "../stores/store.ts";
import {
  type BackupMetadata,
  METADATA_DIR,
  MetadataError,
  metadataPathFor,
  parseMetadata,
} from "./metadata.ts";
import { parseBackupFileName } from "./naming.ts";
import { newestFirst } from "./retention.ts";

/** A backup whose metadata is valid and whose file exists. */
export interface Backup {
  metadata: BackupMetadata;
  /** Where the backup file is, as the store names it for people. */
  path: string;
}

/** A backup file that cannot be trusted, and why. */
export interface UntrustedFile {
  /** The backup file's name in the store. */
  file: string;
  path: string;
  problem: string;
}

export interface Catalog {
  /** Newest first. */
  backups: Backup[];
  untrusted: UntrustedFile[];
  /**
   * Metadata files whose backup file is missing: left by a run that was
   * killed while publishing, or by removing a backup by hand.
   */
  orphanedMetadata: string[];
}

/** Reads every backup's metadata in `store`. */
export async function readCatalog(store: Store): Promise<Catalog> {
  const files = new Set(await store.list(""));
  const catalog: Catalog = { backups: [], untrusted: [], orphanedMetadata: [] };
  const described = new Set<string>();
  for (const metadataName of await store.list(METADATA_DIR)) {
    if (!metadataName.endsWith(".json")) continue;
    const file = metadataName.slice(0, -".json".length);
    const metadataPath = metadataPathFor(file);
    if (!files.has(file)) {
      catalog.orphanedMetadata.push(metadataPath);
      continue;
    }
    described.add(file);
    try {
      const metadata = parseMetadata(await readText(store, metadataPath), file);
      catalog.backups.push({ metadata, path: store.pathOf(file) });
    } catch (error) {
      // Another run's rotation may remove a backup while we read.
      if (error instanceof Deno.errors.NotFound) continue;
      if (!(error instanceof MetadataError)) throw error;
      catalog.untrusted.push({ file, path: store.pathOf(file), problem: error.message });
    }
  }
  for (const file of files) {
    if (!described.has(file) && parseBackupFileName(file)) {
      catalog.untrusted.push({ file, path: store.pathOf(file), problem: "it has no metadata" });
    }
  }
  catalog.backups.sort(newestFirst);
  catalog.untrusted.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return catalog;
}

async function readText(store: Store, name: string): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of store.read(name)) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}
