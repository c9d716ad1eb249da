/**
 * The bench still works: `deno task bench --smoke` runs end to end in a few
 * seconds and writes every table. It proves nothing about speed; benchmarks
 * are never timed tests.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The bench task's command line from deno.json, so the test runs it with the task's permissions. */
async function benchTask(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const [deno, ...args] = (config.tasks.bench as string).split(" ");
  assert.equal(deno, "deno");
  return args;
}

Deno.test({
  name: "bench --smoke runs and writes each group's table",
  // The bench relies on GNU time and coreutils' `sync FILE`: it is a Linux bench.
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tinybackup-test-" });
    try {
      const out = `${dir}/benchmarks.md`;
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [...(await benchTask()), "--smoke", "--out", out],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decoder = new TextDecoder();
      assert.equal(code, 0, decoder.decode(stderr));
      assert.match(decoder.decode(stdout), /wrote /);

      const report = await Deno.readTextFile(out);
      const sections = report.split(/^## /m).slice(1);
      const groups = [
        "Goals",
        "gzip",
        "zstd",
        "none",
        "Peak memory",
        "folder, gzip",
        "SFTP",
        "PostgreSQL",
        "list and prune",
        "Start-up",
      ];
      // Peak memory needs /usr/bin/time; without it the report says so instead.
      const hasTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);
      for (const group of groups) {
        const section = sections.find((s) => s.startsWith(`${group}\n`));
        assert.ok(section, `the report has a ${group} section`);
        const expected = group === "Peak memory" && !hasTime ? /Not measured/ : /^\| -+ \|/m;
        assert.match(section, expected, `the ${group} section has a table`);
      }
      assert.match(report, /Smoke run/, "a smoke report says its numbers mean nothing");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
