/**
 * What a killed run leaves behind (a staged file, metadata whose backup never
 * appeared) is invisible to list, verify and rotation, and the next run
 * removes it; what a live run holds is left alone.
 */
import assert from "node:assert/strict";
import { tempDir, textBytes, tinybackup } from "./_cli.ts";

async function plantLeftovers(
  dest: string,
  backupPath: string,
): Promise<{ staged: string; orphan: string }> {
  const file = backupPath.split("/").pop()!;
  const staged = `${dest}/.tinybackup/tmp/0b0e2c1e-dead-4bee-8000-000000000000.partial`;
  await Deno.writeFile(staged, textBytes(1000));
  // Metadata of a backup whose file was never published.
  const metadata = JSON.parse(await Deno.readTextFile(`${dest}/.tinybackup/${file}.json`));
  const ghost = file.replace(/Z\.gz$/, "Z_7.gz");
  metadata.file = ghost;
  const orphan = `${dest}/.tinybackup/${ghost}.json`;
  await Deno.writeTextFile(orphan, JSON.stringify(metadata));
  return { staged, orphan };
}

Deno.test("leftovers of a killed run are invisible, and the next run removes them", async () => {
  await using dir = await tempDir();
  const dest = `${dir.path}/b`;
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(100));
  const first = await tinybackup(["--file", `${dir.path}/notes.db`, "--dest", dest]);
  const { staged, orphan } = await plantLeftovers(dest, first.stdout.trim());

  const list = JSON.parse((await tinybackup(["list", "--dest", dest, "--json"])).stdout);
  assert.equal(list.length, 1);
  const verify = await tinybackup(["verify", "--dest", dest]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(verify.stdout.trim().split("\n").length, 1);

  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(100, 1));
  const next = await tinybackup(["--file", `${dir.path}/notes.db`, "--dest", dest, "--keep", "1"]);
  assert.equal(next.code, 0, next.stderr);
  for (const leftover of [staged, orphan]) {
    assert.equal(
      await Deno.stat(leftover).catch(() => undefined),
      undefined,
      `${leftover} remains`,
    );
  }
  assert.deepEqual([...Deno.readDirSync(`${dest}/.tinybackup/tmp`)], []);
});

Deno.test("a staged file that a live run holds locked is not removed", async () => {
  await using dir = await tempDir();
  const dest = `${dir.path}/b`;
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(100));
  assert.equal((await tinybackup(["--file", `${dir.path}/notes.db`, "--dest", dest])).code, 0);
  const held = `${dest}/.tinybackup/tmp/held.partial`;
  using file = await Deno.open(held, { write: true, createNew: true });
  await file.lock(true);
  await Deno.writeFile(`${dir.path}/notes.db`, textBytes(100, 1));
  assert.equal((await tinybackup(["--file", `${dir.path}/notes.db`, "--dest", dest])).code, 0);
  assert.ok(Deno.statSync(held).isFile, "a live run's staged file was removed");
});
