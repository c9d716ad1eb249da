/**
 * Config jobs in the queue. A job's chain of runs and `schedule` meeting: a
 * run that starts while `schedule` queues the job anew queues no second
 * successor, and a job unscheduled and then wanted again runs rather than
 * cancelling itself. `jobs` tells what the file now says will stop or fail
 * the next run, every destination checked. Jobs are run as atd runs them:
 * taken off the queue (`at -c`, `atrm`), then their script run with sh.
 */
import assert from "node:assert/strict";
import { emptyQueue, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import { tempDir, tinybackup } from "./_cli.ts";

const QUEUE = "k";
const withAt = await needs("cli/config_jobs_test.ts", programs("at", "atq", "atrm"));

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

withAt.test("config jobs: jobs reads the file as the next run will: a mistake, every destination, a backup gone", async () => {
  await using t = await setUp();
  assert.equal((await t.cli(["schedule", "--config", t.file])).code, 0);
  const problems = async () => ((await t.jobs())[0].problems as string[]).join("\n");
  assert.equal(await problems(), "");

  // A second destination that cannot be reached: an S3 endpoint where nothing listens.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const text = await Deno.readTextFile(t.file);
  // The keys where a scheduled run finds them (at(1) keeps no AWS_SECRET_ACCESS_KEY).
  await Deno.writeTextFile(
    `${t.dir}/credentials`,
    "[default]\naws_access_key_id = test\naws_secret_access_key = test\n",
    { mode: 0o600 },
  );
  await Deno.writeTextFile(
    t.file,
    text.replace('dest = "b"', 'dest = ["b", "s3://tinybackup-test/h1"]'),
  );
  const down = await tinybackup(["jobs", "--json"], {
    env: {
      TINYBACKUP_AT_QUEUE: QUEUE,
      XDG_STATE_HOME: `${t.dir}/state`,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_REGION: "us-east-1",
      AWS_SHARED_CREDENTIALS_FILE: `${t.dir}/credentials`,
    },
  });
  assert.equal(down.code, 0, down.stderr);
  const [job] = JSON.parse(down.stdout) as { problems: string[] }[];
  assert.equal(job.problems.length, 1, job.problems.join("\n"));
  assert.match(
    job.problems[0],
    /^its destination s3:\/\/tinybackup-test\/h1: cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:\d+/,
  );

  await Deno.writeTextFile(
    t.file,
    text.replace('dest = "b"', 'dest = "b"\nretention = { dayly = 3 }'),
  );
  assert.match(
    await problems(),
    /^its config file has a mistake, so its next run will fail: .*retention\.dayly: unknown key; did you mean daily\?$/,
  );

  await Deno.writeTextFile(t.file, text.replace("[backup.notes]", "[backup.todo]"));
  assert.match(
    await problems(),
    /^backup 'notes' is no longer in .*config\.toml, so the job will stop$/,
  );
});
