/**
 * atq, `at -c` and atrm fail when another atrm runs at the same moment, so
 * tinybackup's own removal (unschedule, the time-spec probe, a run replacing
 * its successor) must not take that failure for "already gone" and leave a
 * job queued, and its listing and reading (jobs, unschedule, scheduling the
 * same job twice) must not fail nor miss a job that is there.
 */
import assert from "node:assert/strict";
import { listQueue, readJob, removeJob, submitJob } from "../../lib/schedule/at.ts";
import { emptyQueue, queued } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";

const QUEUE = "r";
const withAt = await needs("faults/atrm_race_test.ts", programs("at", "atq", "atrm"));

/** Runs `fn` with tinybackup's queue set to the test queue, emptied before and after. */
async function inTestQueue(fn: () => Promise<void>): Promise<void> {
  Deno.env.set("TINYBACKUP_AT_QUEUE", QUEUE);
  try {
    await emptyQueue(QUEUE);
    await fn();
  } finally {
    await emptyQueue(QUEUE);
    Deno.env.delete("TINYBACKUP_AT_QUEUE");
  }
}

async function submitMany(count: number): Promise<number[]> {
  const later = new Date(Date.now() + 3600_000);
  const jobs: number[] = [];
  for (let i = 0; i < count; i++) jobs.push(await submitJob("true\n", later));
  return jobs;
}

withAt.test("faults/atrm: 30 jobs removed all at once all leave the queue", async () => {
  await inTestQueue(async () => {
    const jobs = await submitMany(30);
    assert.equal((await queued(QUEUE)).length, 30);
    await Promise.all(jobs.map((job) => removeJob(job)));
    assert.deepEqual(await queued(QUEUE), []);
    await removeJob(jobs[0]); // gone already: nothing to do, and no error
    console.log("faults/atrm: 30 concurrent removals: 0 left queued");
  });
});

withAt.test("faults/atrm: listing and reading while other jobs come and go never fail", async () => {
  await inTestQueue(async () => {
    const [kept] = await submitMany(1);
    // Others queue and remove jobs without pause, as other tinybackup runs would.
    let churning = true;
    let churned = 0;
    const churner = async () => {
      while (churning) {
        await removeJob((await submitMany(1))[0]);
        churned++;
      }
    };
    const churners = Array.from({ length: 4 }, churner);
    let looks = 0;
    try {
      for (const end = Date.now() + 2000; Date.now() < end; looks++) {
        const listed = (await listQueue()).map((entry) => entry.number);
        assert.ok(listed.includes(kept), "atq lists the job that stays");
        assert.match((await readJob(kept)) ?? "", /^true$/m, "at -c reads the job that stays");
      }
    } finally {
      churning = false;
      await Promise.all(churners);
    }
    assert.deepEqual(await queued(QUEUE), [kept]);
    console.log(
      `faults/atrm: ${looks} listings and reads while ${churned} other jobs came and went: 0 failed, 0 missed`,
    );
  });
});
