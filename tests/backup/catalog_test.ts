/**
 * readCatalog against a destination that changes between its two listings,
 * as it does when another run rotates: a moment too small to hit reliably
 * with real processes, so the store's answers are scripted here.
 */
import assert from "node:assert/strict";
import { readCatalog } from "../../lib/backup/catalog.ts";
import { LocalStore } from "../../lib/stores/local_store.ts";

Deno.test("a backup rotated away between the two listings is neither listed nor untrusted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new LocalStore(dir, ".tinybackup/tmp");
    const gone = "notes.db.20260101T000000Z.gz";
    // The backup file was listed, then rotation removed it and its metadata.
    const listings: Record<string, string[]> = { "": [gone], ".tinybackup": [] };
    store.list = (folder: string) => Promise.resolve(listings[folder] ?? []);
    const catalog = await readCatalog(store);
    assert.deepEqual(catalog.backups, []);
    assert.deepEqual(catalog.untrusted, []);

    // A backup file that is really there without metadata is still reported.
    await Deno.writeTextFile(`${dir}/${gone}`, "x");
    assert.deepEqual((await readCatalog(store)).untrusted.map((u) => u.problem), [
      "it has no metadata",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
