/** `tinybackup restore`: the content comes back exactly, or not at all. */
import assert from "node:assert/strict";
import { sameBytes, tempDir, textBytes, tinybackup, visibleFiles } from "./_cli.ts";

async function backUp(dir: string, content: Uint8Array, compression = "gzip"): Promise<string> {
  await Deno.writeFile(`${dir}/notes.db`, content);
  await Deno.chmod(`${dir}/notes.db`, 0o640);
  const r = await tinybackup([
    "--file",
    `${dir}/notes.db`,
    "--dest",
    `${dir}/b`,
    "--compress",
    compression,
    "--force",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Flips one byte in the middle of a file. */
async function flipByte(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await Deno.writeFile(path, bytes);
}

for (const compression of ["gzip", "zstd", "none"]) {
  Deno.test(`restore --to FILE of a ${compression} backup writes the original bytes and mode`, async () => {
    await using dir = await tempDir();
    const content = textBytes(20_000);
    const backup = await backUp(dir.path, content, compression);
    const r = await tinybackup(["restore", backup, "--to", `${dir.path}/restored.db`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${dir.path}/restored.db\n`);
    assert.ok(sameBytes(await Deno.readFile(`${dir.path}/restored.db`), content));
    assert.equal(Deno.statSync(`${dir.path}/restored.db`).mode! & 0o777, 0o640);
  });
}

Deno.test("restore into a folder, or by default into the current one, uses the series name", async () => {
  await using dir = await tempDir();
  const content = textBytes(100);
  const backup = await backUp(dir.path, content);
  await Deno.mkdir(`${dir.path}/out`);
  const intoFolder = await tinybackup(["restore", backup, "--to", `${dir.path}/out`]);
  assert.equal(intoFolder.code, 0, intoFolder.stderr);
  assert.equal(intoFolder.stdout, `${dir.path}/out/notes.db\n`);
  await Deno.mkdir(`${dir.path}/cwd`);
  const here = await tinybackup(["restore", backup], { cwd: `${dir.path}/cwd` });
  assert.equal(here.code, 0, here.stderr);
  assert.ok(sameBytes(await Deno.readFile(`${dir.path}/cwd/notes.db`), content));
});

Deno.test("restore refuses to replace an existing file unless --force", async () => {
  await using dir = await tempDir();
  const content = textBytes(100);
  const backup = await backUp(dir.path, content);
  await Deno.writeTextFile(`${dir.path}/precious`, "keep me");
  const refused = await tinybackup(["restore", backup, "--to", `${dir.path}/precious`]);
  assert.equal(refused.code, 2);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /tinybackup: error: .*precious exists\ntinybackup: hint: .*--force/);
  assert.equal(await Deno.readTextFile(`${dir.path}/precious`), "keep me");
  const forced = await tinybackup(["restore", backup, "--to", `${dir.path}/precious`, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(sameBytes(await Deno.readFile(`${dir.path}/precious`), content));
});

Deno.test("restore --to - streams the content to stdout", async () => {
  await using dir = await tempDir();
  const content = textBytes(50_000);
  const backup = await backUp(dir.path, content, "zstd");
  const r = await tinybackup(["restore", backup, "--to", "-"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(sameBytes(r.bytes, content));
});

for (const compression of ["gzip", "none"]) {
  Deno.test(`restore of a damaged ${compression} backup exits 1 and leaves nothing at the target`, async () => {
    await using dir = await tempDir();
    const backup = await backUp(dir.path, textBytes(20_000), compression);
    await flipByte(backup);
    await Deno.mkdir(`${dir.path}/out`);
    const r = await tinybackup(["restore", backup, "--to", `${dir.path}/out/notes.db`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^tinybackup: error: /);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir.path}/out`)],
      [],
      "no file, not even a hidden partial one",
    );
    const piped = await tinybackup(["restore", backup, "--to", "-"]);
    assert.equal(piped.code, 1);
    assert.match(piped.stderr, /damaged|decompress|incorrect|invalid/i);
  });
}

Deno.test("restore leaves the backups as they were", async () => {
  await using dir = await tempDir();
  const backup = await backUp(dir.path, textBytes(100));
  const before = await visibleFiles(`${dir.path}/b`);
  await tinybackup(["restore", backup, "--to", `${dir.path}/r`]);
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), before);
  assert.equal((await tinybackup(["verify", "--dest", `${dir.path}/b`])).code, 0);
});

Deno.test("a damaged zstd backup names itself in the error and restores nothing", async () => {
  await using dir = await tempDir();
  const backup = await backUp(dir.path, textBytes(20_000), "zstd");
  await flipByte(backup);
  await Deno.mkdir(`${dir.path}/out`);
  const r = await tinybackup(["restore", backup, "--to", `${dir.path}/out/notes.db`]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.startsWith(`tinybackup: error: ${backup} is damaged`), r.stderr);
  assert.match(r.stderr, /hint: nothing was restored/);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/out`)], []);
});

Deno.test("a backup with a 255-byte name restores", async () => {
  await using dir = await tempDir();
  const name = "n".repeat(251) + ".db";
  await Deno.writeFile(`${dir.path}/${name}`, textBytes(10));
  const r = await tinybackup(["--file", `${dir.path}/${name}`, "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  await Deno.mkdir(`${dir.path}/out`);
  const restored = await tinybackup(["restore", r.stdout.trim(), "--to", `${dir.path}/out`]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(restored.stdout, `${dir.path}/out/${name}\n`);
  assert.ok(sameBytes(await Deno.readFile(`${dir.path}/out/${name}`), textBytes(10)));
});

Deno.test("restore into a kernel folder (/proc) exits 2 with a message, not Deno's", async () => {
  await using dir = await tempDir();
  const backup = await backUp(dir.path, textBytes(10));
  const r = await tinybackup(["restore", backup, "--to", "/proc/tinybackup-restored"]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^tinybackup: error: cannot make files in \/proc\ntinybackup: hint: /);
});
