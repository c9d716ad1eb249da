/** `tinybackup list` and `prune`. */
import assert from "node:assert/strict";
import { tempDir, textBytes, tinybackup, visibleFiles } from "./_cli.ts";

/** Backs up `versions` versions of `name`, returning the printed paths, oldest first. */
async function versions(dir: string, name: string, count: number): Promise<string[]> {
  const paths: string[] = [];
  for (let v = 0; v < count; v++) {
    await Deno.writeFile(`${dir}/${name}`, textBytes(100, v));
    const r = await tinybackup(["--file", `${dir}/${name}`, "--dest", `${dir}/b`, "--keep", "0"]);
    assert.equal(r.code, 0, r.stderr);
    paths.push(r.stdout.trim());
  }
  return paths;
}

Deno.test("list shows every backup newest first, one line each, and JSON with the documented fields", async () => {
  await using dir = await tempDir();
  const a = await versions(dir.path, "a.txt", 3);
  const b = await versions(dir.path, "b.txt", 1);
  const human = await tinybackup(["list", "--dest", `${dir.path}/b`]);
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split("  ").pop()), [b[0], a[2], a[1], a[0]]);
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d+(\.\d)? (B|KiB) +gzip +\//);
  const json = JSON.parse((await tinybackup(["list", "--dest", `${dir.path}/b`, "--json"])).stdout);
  assert.equal(json.length, 4);
  for (const key of ["path", "name", "time", "size", "sha256", "compression"]) {
    assert.ok(key in json[0], `list --json has ${key}`);
  }
  assert.equal(json[0].source, `${dir.path}/b.txt`);
});

Deno.test("list --name and --file show one series", async () => {
  await using dir = await tempDir();
  const a = await versions(dir.path, "a.txt", 2);
  await versions(dir.path, "b.txt", 1);
  const byName = JSON.parse(
    (await tinybackup(["list", "--dest", `${dir.path}/b`, "--name", "a.txt", "--json"])).stdout,
  );
  assert.deepEqual(byName.map((x: { path: string }) => x.path), [a[1], a[0]]);
  const byFile = JSON.parse(
    (await tinybackup(["list", "--dest", "b", "--file", "a.txt", "--json"], { cwd: dir.path }))
      .stdout,
  );
  assert.deepEqual(byFile.map((x: { path: string }) => x.path), [a[1], a[0]]);
  const none = await tinybackup(["list", "--dest", `${dir.path}/b`, "--name", "c.txt"]);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /no backups/);
});

Deno.test("prune keeps the N newest of one series and prints what it removed", async () => {
  await using dir = await tempDir();
  const a = await versions(dir.path, "a.txt", 4);
  const b = await versions(dir.path, "b.txt", 2);
  const dry = await tinybackup([
    "prune",
    "--dest",
    `${dir.path}/b`,
    "--name",
    "a.txt",
    "--keep",
    "1",
    "--dry-run",
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.stdout.trimEnd().split("\n").sort(), a.slice(0, 3).sort());
  assert.equal((await visibleFiles(`${dir.path}/b`)).length, 6, "a dry run removes nothing");
  const r = await tinybackup([
    "prune",
    "--dest",
    `${dir.path}/b`,
    "--file",
    `${dir.path}/a.txt`,
    "--keep",
    "1",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split("\n").sort(), a.slice(0, 3).sort());
  const left = (await visibleFiles(`${dir.path}/b`)).map((n) => `${dir.path}/b/${n}`);
  assert.deepEqual(left.sort(), [a[3], ...b].sort());
  const zero = await tinybackup([
    "prune",
    "--dest",
    `${dir.path}/b`,
    "--name",
    "b.txt",
    "--keep",
    "0",
  ]);
  assert.equal(zero.stdout, "", "--keep 0 keeps everything");
});

Deno.test("list and prune --file find a file's backups whatever --name they were made with", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  for (let v = 0; v < 3; v++) {
    await Deno.writeFile(file, textBytes(10, v));
    const r = await tinybackup([
      "--file",
      file,
      "--dest",
      `${dir.path}/b`,
      "--name",
      "custom",
      "--keep",
      "0",
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const listed = JSON.parse(
    (await tinybackup(["list", "--dest", `${dir.path}/b`, "--file", file, "--json"])).stdout,
  );
  assert.equal(listed.length, 3);
  const pruned = await tinybackup([
    "prune",
    "--dest",
    `${dir.path}/b`,
    "--file",
    file,
    "--keep",
    "1",
  ]);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(pruned.stdout.trim().split("\n").length, 2);
  assert.equal((await visibleFiles(`${dir.path}/b`)).length, 1);
});
