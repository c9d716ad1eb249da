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
import { newestByTime } from "./retention.ts";

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
  /** Newest first by time, for people; a series' own order is retention's newestFirst. */
  backups: Backup[];
  untrusted: UntrustedFile[];
  /**
   * Metadata files whose backup file is missing: left by a run that was
   * killed while publishing, or by removing a backup by hand.
   */
  orphanedMetadata: string[];
}

/** Metadata files read at once: enough to hide each read's latency, few enough for any system. */
const CONCURRENT_READS = 32;

/** Reads every backup's metadata in `store`. */
export async function readCatalog(store: Store): Promise<Catalog> {
  const files = new Set(await store.list(""));
  const catalog: Catalog = { backups: [], untrusted: [], orphanedMetadata: [] };
  const described = new Set<string>();
  const toRead: string[] = [];
  for (const metadataName of await store.list(METADATA_DIR)) {
    if (!metadataName.endsWith(".json")) continue;
    const file = metadataName.slice(0, -".json".length);
    if (files.has(file)) {
      described.add(file);
      toRead.push(file);
    } else {
      catalog.orphanedMetadata.push(metadataPathFor(file));
    }
  }
  for (let i = 0; i < toRead.length; i += CONCURRENT_READS) {
    await Promise.all(
      toRead.slice(i, i + CONCURRENT_READS).map((file) => readOne(store, file, catalog)),
    );
  }
  for (const file of files) {
    // A backup rotated away between the two listings is gone, not untrusted.
    if (!described.has(file) && parseBackupFileName(file) && await store.exists(file)) {
      catalog.untrusted.push({ file, path: store.pathOf(file), problem: "it has no metadata" });
    }
  }
  catalog.backups.sort(newestByTime);
  catalog.untrusted.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return catalog;
}

/** Reads the metadata of backup `file` into the catalog, as trusted or not. */
async function readOne(store: Store, file: string, catalog: Catalog): Promise<void> {
  try {
    const metadata = parseMetadata(await store.readText(metadataPathFor(file)), file);
    catalog.backups.push({ metadata, path: store.pathOf(file) });
  } catch (error) {
    // Another run's rotation may remove a backup while we read.
    if (error instanceof Deno.errors.NotFound) return;
    if (!(error instanceof MetadataError)) throw error;
    catalog.untrusted.push({ file, path: store.pathOf(file), problem: error.message });
  }
}
