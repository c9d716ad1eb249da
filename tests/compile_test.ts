/**
 * The release build: `deno compile` with the permission set from deno.json
 * gives a binary that backs up and restores on its own. deno compile
 * downloads its runtime; where that cannot be had, the test is ignored and
 * the reason printed.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { sameBytes, textBytes } from "./cli/_cli.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const workDir = await Deno.makeTempDir({ prefix: "tinybackup-compile-" });
const binary = `${workDir}/tinybackup`;

const compile = await new Deno.Command(Deno.execPath(), {
  args: [
    "compile",
    "-q",
    "--v8-flags=--expose-gc",
    "-P=tinybackup",
    "--include",
    "lib/backup/compress_worker.ts",
    "--include",
    "lib/backup/hash_worker.ts",
    "--include",
    "lib/sources/sqlite_worker.ts",
    "--include",
    "lib/age/seal_worker.ts",
    "--output",
    binary,
    "main.ts",
  ],
  cwd: ROOT,
  stdout: "piped",
  stderr: "piped",
}).output();
const compileErrors = new TextDecoder().decode(compile.stderr);
const runtimeUnavailable = compile.code !== 0 &&
  /error sending request|dns error|Connect/i.test(compileErrors);
if (runtimeUnavailable) {
  console.error(
    "compile_test: SKIPPED, deno compile could not download its runtime here " +
      "(no internet); the release workflow compiles on GitHub",
  );
  await Deno.remove(workDir, { recursive: true });
}

Deno.test({
  name: "deno compile builds a binary that backs up and restores",
  ignore: runtimeUnavailable,
  async fn() {
    try {
      assert.equal(compile.code, 0, compileErrors);
      const content = textBytes(1000);
      await Deno.writeFile(`${workDir}/notes.db`, content);
      const backup = await new Deno.Command(binary, {
        args: ["--file", `${workDir}/notes.db`, "--dest", `${workDir}/b`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(backup.code, 0, new TextDecoder().decode(backup.stderr));
      const path = new TextDecoder().decode(backup.stdout).trim();
      const restore = await new Deno.Command(binary, {
        args: ["restore", path, "--to", "-"],
        stdout: "piped",
      }).output();
      assert.equal(restore.code, 0);
      assert.ok(sameBytes(restore.stdout, content));
      // Random, then text: the hashing and the compression workers must be in the binary too.
      const large = new Uint8Array(12 * 1024 * 1024);
      for (let at = 0; at < 4 * 1024 * 1024; at += 65536) {
        crypto.getRandomValues(large.subarray(at, at + 65536));
      }
      large.fill(0x61, 4 * 1024 * 1024);
      await Deno.writeFile(`${workDir}/large.bin`, large);
      const zstd = await new Deno.Command(binary, {
        args: ["--file", `${workDir}/large.bin`, "--dest", `${workDir}/b`, "--compress", "zstd"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(zstd.code, 0, new TextDecoder().decode(zstd.stderr));
      const restored = await new Deno.Command(binary, {
        args: ["restore", new TextDecoder().decode(zstd.stdout).trim(), "--to", "-"],
        stdout: "piped",
      }).output();
      assert.equal(restored.code, 0);
      assert.ok(sameBytes(restored.stdout, large));
      // Encrypted, zstd's raw frames of random content are sealed in a worker of its own.
      const key = `${workDir}/key.txt`;
      const keyGenerate = await new Deno.Command(binary, {
        args: ["key", "generate", "--output", key],
        stderr: "piped",
      }).output();
      assert.equal(keyGenerate.code, 0, new TextDecoder().decode(keyGenerate.stderr));
      const sealed = await new Deno.Command(binary, {
        args: [
          ...["--file", `${workDir}/large.bin`, "--dest", `${workDir}/b`, "--compress", "zstd"],
          ...["-i", key, "--force"],
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(sealed.code, 0, new TextDecoder().decode(sealed.stderr));
      const opened = await new Deno.Command(binary, {
        args: ["restore", new TextDecoder().decode(sealed.stdout).trim(), "-i", key, "--to", "-"],
        stdout: "piped",
      }).output();
      assert.equal(opened.code, 0);
      assert.ok(sameBytes(opened.stdout, large));
      // The SQLite snapshot runs in a worker of its own.
      const db = new DatabaseSync(`${workDir}/app.db`);
      db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (42)");
      db.close();
      const sqlite = await new Deno.Command(binary, {
        args: ["--sqlite", `${workDir}/app.db`, "--dest", `${workDir}/b`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(sqlite.code, 0, new TextDecoder().decode(sqlite.stderr));
    } finally {
      await Deno.remove(workDir, { recursive: true });
    }
  },
});
