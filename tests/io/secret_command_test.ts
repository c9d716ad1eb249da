/** A secret from a command: its first line; a failure, a silence or a hang is a clear error. */
import assert from "node:assert/strict";
import { firstLineOf, SecretCommandError } from "../../lib/io/secret_command.ts";

Deno.test("firstLineOf: the first line, without its line end", async () => {
  assert.equal(await firstLineOf("printf 'pw\\r\\nsecond\\n'", "the command", 10), "pw");
});

Deno.test("firstLineOf: a failing command, an empty line and a hang are errors that never quote output", async () => {
  await assert.rejects(firstLineOf("echo s3cret; exit 3", "the command", 10), (error) => {
    assert.ok(error instanceof SecretCommandError);
    assert.equal(error.message, "the command failed (exit 3)");
    return true;
  });
  await assert.rejects(firstLineOf("echo", "the command", 10), /printed an empty first line/);
  // What sh started keeps the pipe open after sh is killed: the error must not wait for it.
  await assert.rejects(
    firstLineOf("sleep 30; echo late", "the command", 1),
    /did not finish within 1 s/,
  );
});
