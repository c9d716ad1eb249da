/**
 * on_failure's timeout stops the command and whatever it started, and a
 * command that leaves a process holding its output open does not hold the
 * backup's run.
 */
import assert from "node:assert/strict";
import { runOnFailure } from "../../lib/config/on_failure.ts";

async function alive(pid: number): Promise<boolean> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] })
    .output();
  const stat = new TextDecoder().decode(stdout).trim();
  // A killed process not yet reaped (a zombie) is not running.
  return stat !== "" && !stat.startsWith("Z");
}

Deno.test("on_failure: a command that outlives its timeout is stopped with what it started", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const problem = await runOnFailure(
      ["sh", "-c", `sleep 60 & echo $! > ${dir}/pid; sleep 60`],
      "notes",
      "it broke",
      500,
    );
    assert.equal(problem, "on_failure: sh did not end within 0.5 s; stopped it");
    const pid = Number(await Deno.readTextFile(`${dir}/pid`));
    assert.equal(await alive(pid), false, "the process it started in the background was stopped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("on_failure: a command that ends, leaving a process with its output open, is not waited for", async () => {
  const dir = await Deno.makeTempDir();
  let pid = 0;
  try {
    const problem = await runOnFailure(
      ["sh", "-c", `sleep 60 & echo $! > ${dir}/pid; exit 3`],
      "notes",
      "it broke",
      30_000,
    );
    assert.equal(problem, "on_failure: sh exited with 3");
    pid = Number(await Deno.readTextFile(`${dir}/pid`));
  } finally {
    if (pid) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("on_failure: the backup's name and error are in its environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const problem = await runOnFailure(
      ["sh", "-c", `printf '%s|%s' "$TINYBACKUP_BACKUP" "$TINYBACKUP_ERROR" > ${dir}/told`],
      "notes",
      "it broke",
    );
    assert.equal(problem, undefined);
    assert.equal(await Deno.readTextFile(`${dir}/told`), "notes|it broke");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
