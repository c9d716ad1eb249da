/** `tinybackup verify`: every backup decompressed and hashed, the bad ones named. */
import assert from "node:assert/strict";
import { tempDir, textBytes, tinybackup } from "./_cli.ts";

/** A destination with three backups of notes.db, one per compression. */
async function threeBackups(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, compression] of ["gzip", "zstd", "none"].entries()) {
    await Deno.writeFile(`${dir}/notes.db`, textBytes(5000, i));
    const r = await tinybackup([
      "--file",
      `${dir}/notes.db`,
      "--dest",
      `${dir}/b`,
      "--compress",
      compression,
    ]);
    assert.equal(r.code, 0, r.stderr);
    paths.push(r.stdout.trim());
  }
  return paths;
}

Deno.test("verify passes healthy backups and says ok for each", async () => {
  await using dir = await tempDir();
  const paths = await threeBackups(dir.path);
  const r = await tinybackup(["verify", "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  for (const path of paths) assert.ok(r.stdout.includes(`ok   ${path}\n`), r.stdout);
});

for (const victim of [0, 1, 2]) {
  Deno.test(`verify finds a flipped byte in backup ${victim + 1} of 3 and exits 1`, async () => {
    await using dir = await tempDir();
    const paths = await threeBackups(dir.path);
    const bytes = await Deno.readFile(paths[victim]);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await Deno.writeFile(paths[victim], bytes);
    const r = await tinybackup(["verify", "--dest", `${dir.path}/b`, "--json"]);
    assert.equal(r.code, 1);
    const verdicts = JSON.parse(r.stdout);
    assert.equal(verdicts.length, 3);
    for (const v of verdicts) assert.equal(v.ok, v.path !== paths[victim], JSON.stringify(v));
    assert.match(r.stderr, /tinybackup: error: 1 of 3 backup\(s\) failed verification/);
  });
}

Deno.test("a backup with missing or damaged metadata is reported, not listed, and not rotated away", async () => {
  await using dir = await tempDir();
  const paths = await threeBackups(dir.path);
  const file = (p: string) => p.split("/").pop()!;
  await Deno.remove(`${dir.path}/b/.tinybackup/${file(paths[0])}.json`);
  await Deno.writeTextFile(`${dir.path}/b/.tinybackup/${file(paths[1])}.json`, "{ not json");
  const r = await tinybackup(["verify", "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 1);
  assert.ok(r.stdout.includes(`bad  ${paths[0]}: it has no metadata`), r.stdout);
  assert.ok(r.stdout.includes(`bad  ${paths[1]}: metadata is not valid JSON`), r.stdout);
  assert.ok(r.stdout.includes(`ok   ${paths[2]}`), r.stdout);
  const list = await tinybackup(["list", "--dest", `${dir.path}/b`, "--json"]);
  assert.deepEqual(JSON.parse(list.stdout).map((b: { path: string }) => b.path), [paths[2]]);
  assert.match(list.stderr, /warning: 2 file\(s\) look like backups but have no valid metadata/);
  const prune = await tinybackup([
    "prune",
    "--dest",
    `${dir.path}/b`,
    "--name",
    "notes.db",
    "--keep",
    "1",
  ]);
  assert.equal(prune.code, 0, prune.stderr);
  for (const path of paths) assert.ok(Deno.statSync(path).isFile, `${path} was deleted`);
});

Deno.test("verify of an empty destination passes", async () => {
  await using dir = await tempDir();
  const r = await tinybackup(["verify", "--dest", dir.path]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
});
