/**
 * A config job's chain of runs and `schedule` meeting: a run that starts
 * while `schedule` queues the job anew queues no second successor, and a
 * job unscheduled and then wanted again runs rather than cancelling itself.
 * Jobs are run as atd runs them: taken off the queue (`at -c`, `atrm`), then
 * their script run with sh.
 */
import assert from "node:assert/strict";
import { emptyQueue, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import { tempDir, tinybackup } from "./_cli.ts";

const QUEUE = "k";
const withAt = await needs("cli/config_chain_test.ts", programs("at", "atq", "atrm"));

async function setUp() {
  await emptyQueue(QUEUE);
  const dir = await tempDir();
  const env = { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
  const file = `${dir.path}/config.toml`;
  await Deno.writeTextFile(`${dir.path}/notes.txt`, "notes\n");
  await Deno.writeTextFile(
    file,
    '[backup.notes]\nfile = "notes.txt"\ndest = "b"\nschedule = { every = "1h" }\n',
    { mode: 0o600 },
  );
  const cli = (args: string[]) => tinybackup(args, { env });
  return {
    dir: dir.path,
    file,
    cli,
    async jobs(): Promise<Record<string, unknown>[]> {
      const r = await cli(["jobs", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    },
    async log(): Promise<Record<string, unknown>[]> {
      return JSON.parse((await cli(["log", "--json"])).stdout);
    },
    async [Symbol.asyncDispose]() {
      await emptyQueue(QUEUE);
      await dir[Symbol.asyncDispose]();
    },
  };
}

withAt.test("config jobs: schedule while a run is starting leaves one chain, not two", async () => {
  await using t = await setUp();
  const scheduled = await t.cli(["schedule", "--config", t.file]);
  assert.equal(scheduled.code, 0, scheduled.stderr);
  const [job] = await t.jobs();
  // atd has started the run; it has not queued its successor yet.
  const script = await takeJob(job.atJob as number);
  const again = await t.cli(["schedule", "--config", t.file]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /scheduled notes: job /);
  const ran = await runScript(script, t.dir);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal((await queued(QUEUE)).length, 1, "the run saw the job queued anew");
  const [record] = await t.log();
  assert.equal(record.result, "ok", JSON.stringify(record));

  // And scheduling again keeps that one.
  const kept = await t.cli(["schedule", "--config", t.file]);
  assert.match(kept.stderr, /keep notes: job /);
  assert.equal((await queued(QUEUE)).length, 1);
});

withAt.test("config jobs: a job unscheduled, then scheduled again, runs and queues its next run", async () => {
  await using t = await setUp();
  assert.equal((await t.cli(["schedule", "--config", t.file])).code, 0);
  const [job] = await t.jobs();
  const un = await t.cli(["unschedule", job.id as string]);
  assert.equal(un.code, 0, un.stderr);
  assert.equal((await t.cli(["schedule", "--config", t.file])).code, 0);
  const [again] = await t.jobs();
  assert.equal(again.id, job.id, "the same id: derived from the file and the backup's name");
  const ran = await runScript(await takeJob(again.atJob as number), t.dir);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal((await t.log()).at(-1)!.result, "ok");
  assert.equal((await queued(QUEUE)).length, 1, "its next run is queued");
});
