/**
 * atrm fails when another atrm runs at the same moment, so tinybackup's own
 * removal (unschedule, the time-spec probe, a run replacing its successor)
 * must not take that failure for "already gone" and leave a job queued.
 */
import assert from "node:assert/strict";
import { removeJob, submitJob } from "../../lib/schedule/at.ts";
import { hasProgram, run } from "../cli/_cli.ts";

const QUEUE = "r";
const AT_INSTALLED = await hasProgram("at");
if (!AT_INSTALLED) {
  if (Deno.env.get("CI")) throw new Error("at(1) must be installed in CI");
  console.error("atrm_race_test: SKIPPED, at(1) is not installed here");
}

async function queued(): Promise<string[]> {
  const out = new TextDecoder().decode(await run("atq", ["-q", QUEUE]));
  return out.split("\n").filter((line) => /^\d+\s/.test(line));
}

Deno.test({
  name: "faults/atrm: 30 jobs removed all at once all leave the queue",
  ignore: !AT_INSTALLED,
  async fn() {
    Deno.env.set("TINYBACKUP_AT_QUEUE", QUEUE);
    try {
      const later = new Date(Date.now() + 3600_000);
      const jobs: number[] = [];
      for (let i = 0; i < 30; i++) jobs.push(await submitJob("true\n", later));
      assert.equal((await queued()).length, 30);
      const removed = await Promise.all(jobs.map((job) => removeJob(job)));
      assert.deepEqual(await queued(), []);
      assert.equal(await removeJob(jobs[0]), false, "a job already gone says so");
      console.log(
        `faults/atrm: 30 concurrent removals: ${
          removed.filter(Boolean).length
        } said removed, the rest gone already; 0 left queued`,
      );
    } finally {
      for (const line of await queued()) await run("atrm", [line.split(/\s/)[0]]);
      Deno.env.delete("TINYBACKUP_AT_QUEUE");
    }
  },
});
