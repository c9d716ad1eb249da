/** Paths in the special folders: /dev/shm, which Deno opens only with every permission. */
import assert from "node:assert/strict";
import { run, sameBytes, textBytes, tinybackup } from "./_cli.ts";

const decoder = new TextDecoder();

/** Whether `path` is a folder, asked of test(1): Deno lets only every permission look in /dev and /proc. */
async function isFolder(path: string): Promise<boolean> {
  return (await new Deno.Command("test", { args: ["-d", path] }).output()).code === 0;
}

const SHM = await isFolder("/dev/shm");

Deno.test({
  name: "a file in /dev/shm backs up, and /dev/shm takes backups",
  ignore: !SHM,
  async fn() {
    const shm = decoder.decode(await run("mktemp", ["-d", "/dev/shm/tinybackup-test-XXXXXX"]))
      .trim();
    try {
      const content = textBytes(1000);
      await run("sh", ["-c", 'cat > "$1/notes.db"', "sh", shm], content);
      const result = await tinybackup(["--file", `${shm}/notes.db`, "--dest", `${shm}/bk`]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${shm}/bk/notes\\.db\\.\\d{8}T\\d{6}Z\\.gz\n$`));
      assert.ok(sameBytes(await run("gunzip", ["-c", result.stdout.trim()]), content));
    } finally {
      await run("rm", ["-rf", shm]);
    }
  },
});
