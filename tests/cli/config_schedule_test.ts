/**
 * A config file with a folder, a SQLite database and a PostgreSQL database,
 * each into a local folder and the S3 test server: run, scheduled with
 * at(1) and run as atd runs a job, edited, a backup removed. What was stored
 * is read back with tar, sqlite3 and pg_restore (through rclone for S3).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { emptyQueue, jobScript, queued, runScript, takeJob } from "../_at_queue.ts";
import { POSTGRES, startPostgres } from "../_postgres.ts";
import { needs, programs } from "../_requires.ts";
import { S3_REQUIREMENT, startS3 } from "../_s3.ts";
import { run, tempDir, tinybackup } from "./_cli.ts";

const withEverything = await needs(
  "cli/config_schedule_test.ts",
  S3_REQUIREMENT,
  POSTGRES,
  programs("at", "atq", "atrm", "gunzip", "tar", "sqlite3", "pg_restore"),
);

const QUEUE = "c";
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

withEverything.test("config: a folder, SQLite and PostgreSQL into a folder and S3: run, schedule, a job run, an edit, a backup removed", async () => {
  await emptyQueue(QUEUE);
  await using s3 = await startS3();
  await using pg = await startPostgres();
  await using dir = await tempDir();
  await pg.sql("postgres", "CREATE DATABASE app");
  await pg.sql("app", "CREATE TABLE t (v text); INSERT INTO t VALUES ('from postgres')");
  await Deno.mkdir(`${dir.path}/site`);
  await Deno.writeTextFile(`${dir.path}/site/index.html`, "<h1>site</h1>\n");
  const db = `${dir.path}/app.db`;
  await run("sqlite3", [db, "CREATE TABLE t (v text); INSERT INTO t VALUES ('one');"]);
  // The keys in a credentials file, which scheduled runs find through AWS_SHARED_CREDENTIALS_FILE.
  await Deno.writeTextFile(
    join(s3.awsDir, "credentials"),
    `[default]\naws_access_key_id = ${s3.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${s3.env.AWS_SECRET_ACCESS_KEY}\n`,
    { mode: 0o600 },
  );
  const { AWS_ACCESS_KEY_ID: _, AWS_SECRET_ACCESS_KEY: __, ...s3Settings } = s3.env;
  const env = {
    ...s3Settings,
    ...pg.env,
    TINYBACKUP_AT_QUEUE: QUEUE,
    XDG_STATE_HOME: `${dir.path}/state`,
  };
  const cli = (args: string[]) => tinybackup(args, { env });
  const file = `${dir.path}/config.toml`;
  const write = (text: string) => Deno.writeTextFile(file, text, { mode: 0o600 });
  const bucket = `s3://${s3.bucket}/host1`;
  const config = (notesSchedule: string, withSite = true) => `
[defaults]
dest = ["local", "${bucket}"]
retention = { last = 5, daily = 7 }
schedule = { every = "1d", at = "03:00" }

[backup.db]
sqlite = "app.db"
schedule = ${notesSchedule}

[backup.pg]
postgres = "app"
${withSite ? '\n[backup.site]\nfolder = "site"\n' : ""}`;
  await write(config('{ every = "1d", at = "02:00" }'));
  try {
    const ran = await cli(["run", "--config", file]);
    assert.equal(ran.code, 0, ran.stderr);
    const paths = ran.stdout.trim().split("\n");
    assert.equal(paths.length, 6, ran.stdout);
    // The same bytes in the folder and in the bucket, for each backup.
    for (const local of paths.filter((p) => p.startsWith(dir.path))) {
      const name = local.slice(local.lastIndexOf("/") + 1);
      const remote = await s3.rclone(["cat", `s3:${s3.bucket}/host1/${name}`]);
      assert.equal(sha256(remote), sha256(await Deno.readFile(local)), name);
    }
    const stored = (prefix: string) => paths.find((p) => p.startsWith(`${bucket}/${prefix}`))!;
    const fromS3 = (url: string) => s3.rclone(["cat", `s3:${url.slice("s3://".length)}`]);
    await Deno.writeFile(`${dir.path}/site.tgz`, await fromS3(stored("site.tar.")));
    assert.match(
      new TextDecoder().decode(await run("tar", ["-xzOf", `${dir.path}/site.tgz`])),
      /<h1>site<\/h1>/,
    );
    await Deno.writeFile(
      `${dir.path}/db.copy`,
      await run("gunzip", ["-c"], await fromS3(stored("app.db."))),
    );
    assert.equal(
      new TextDecoder().decode(await run("sqlite3", [`${dir.path}/db.copy`, "SELECT v FROM t"])),
      "one\n",
    );
    const dump = await run("gunzip", ["-c"], await fromS3(stored("app.pgdump.")));
    await Deno.writeFile(`${dir.path}/app.pgdump`, dump);
    assert.match(
      new TextDecoder().decode(await run("pg_restore", ["-f", "-", `${dir.path}/app.pgdump`])),
      /from postgres/,
    );

    // schedule: one job per backup, ids from the file and the backup's name; again, the same jobs.
    const scheduled = await cli(["schedule", "--config", file]);
    assert.equal(scheduled.code, 0, scheduled.stderr);
    const ids = scheduled.stdout.trim().split("\n");
    assert.equal(ids.length, 3);
    const atJobs = await queued(QUEUE);
    assert.equal(atJobs.length, 3);
    const again = await cli(["schedule", "--config", file]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.stdout.trim().split("\n"), ids);
    assert.deepEqual(await queued(QUEUE), atJobs, "the same jobs are kept, not queued again");
    const jobs = JSON.parse((await cli(["jobs", "--json"])).stdout) as Record<string, unknown>[];
    const dbJob = jobs.find((j) => j.name === "app.db")!;
    assert.equal(dbJob.schedule, "every 1d at 02:00");
    assert.equal(dbJob.retention, "last 5, daily 7");
    for (const atJob of atJobs) {
      const script = new TextDecoder().decode(await jobScript(atJob));
      assert.ok(!script.includes(s3.env.AWS_SECRET_ACCESS_KEY), "no key in a job");
      assert.ok(!script.includes("PGPASSWORD"));
    }

    // A job run, as atd runs it, reads the file and backs up to both destinations.
    await run("sqlite3", [db, "UPDATE t SET v = 'two'"]);
    const job = await runScript(await takeJob(dbJob.atJob as number), dir.path);
    assert.equal(job.code, 0, job.stderr);
    assert.equal(job.stderr, "", "a good run prints nothing");
    const log = JSON.parse((await cli(["log", "--json"])).stdout) as Record<string, string>[];
    assert.equal(log.at(-1)!.result, "ok", log.at(-1)!.message);
    assert.match(log.at(-1)!.message, /backed up to 2 destinations/);
    const latest = (await s3.keys()).filter((k) => k.startsWith("host1/app.db.")).sort().at(-1)!;
    await Deno.writeFile(
      `${dir.path}/db.copy2`,
      await run("gunzip", ["-c"], await s3.rclone(["cat", `s3:${s3.bucket}/${latest}`])),
    );
    assert.equal(
      new TextDecoder().decode(await run("sqlite3", [`${dir.path}/db.copy2`, "SELECT v FROM t"])),
      "two\n",
    );
    const successor =
      (JSON.parse((await cli(["jobs", "--json"])).stdout) as Record<string, unknown>[])
        .find((j) => j.id === dbJob.id)!;
    assert.notEqual(successor.atJob, dbJob.atJob, "the job queued its next run");

    // An edit: the site is gone from the file, the database's schedule changed.
    await write(config('{ every = "12h" }', false));
    const siteJob = jobs.find((j) => j.name === "site.tar")!;
    // The site's queued run, run before 'schedule' is told: it stops, and queues nothing.
    const siteRun = await runScript(await takeJob(siteJob.atJob as number), dir.path);
    assert.equal(siteRun.code, 0, siteRun.stderr);
    const stopped = (JSON.parse((await cli(["log", "--json"])).stdout) as Record<string, string>[])
      .at(-1)!;
    assert.equal(stopped.result, "stopped");
    assert.match(stopped.message, /backup 'site' is no longer in .*config\.toml/);
    const rescheduled = await cli(["schedule", "--config", file]);
    assert.equal(rescheduled.code, 0, rescheduled.stderr);
    assert.match(rescheduled.stderr, /rescheduled db: job [0-9a-f]{8}, every 12h/);
    const now = JSON.parse((await cli(["jobs", "--json"])).stdout) as Record<string, unknown>[];
    assert.deepEqual(
      now.map((j) => j.id).sort(),
      [dbJob.id, jobs.find((j) => j.name === "app.pgdump")!.id].sort(),
    );
    assert.equal(now.find((j) => j.id === dbJob.id)!.schedule, "every 12h");
    assert.equal((await queued(QUEUE)).length, 2);

    const listed = (await cli(["jobs"])).stdout;
    assert.match(listed, new RegExp(`^${dbJob.id} .*\\(backup 'db' of ${file}\\)$`, "m"));

    // The file, scheduled with a variable scheduled runs would not have, is
    // refused, with a default too (it would silently apply in the job).
    for (const variable of ["${DB_FILE}", "${DB_FILE:-other.db}"]) {
      await write(config('{ every = "1d" }').replace("app.db", variable));
      const refused = await tinybackup(["schedule", "--config", file], {
        env: { ...env, DB_FILE: "app.db" },
      });
      assert.equal(refused.code, 2, variable);
      assert.equal(refused.stdout, "");
      assert.match(
        refused.stderr,
        /scheduled runs would not read .*config\.toml as this run does: it uses \$\{DB_FILE\}, which a scheduled run does not get from this environment/,
      );
      assert.match(refused.stderr, /hint: jobs keep only PATH, HOME/);
    }
    assert.equal(
      (await queued(QUEUE)).length,
      2,
      "the refused file changed no job",
    );

    // jobs (and doctor) tell of a job whose file is gone.
    await Deno.rename(file, `${file}.away`);
    assert.match(
      (await cli(["jobs"])).stdout,
      /problem: its config file is gone, so the job will stop/,
    );
  } finally {
    await emptyQueue(QUEUE);
  }
});
