/**
 * Scheduling against the real at(1): jobs are queued in a test queue letter,
 * and a queued job is run on the spot the way atd runs it: its script is
 * taken off the queue with `at -c N` and `atrm N` and run with sh.
 */
import assert from "node:assert/strict";
import { atq, emptyQueue, jobScript, queued, runScript, takeJob } from "../_at_queue.ts";
import { AT_DAEMON, needs, programs } from "../_requires.ts";
import { stopAfterReading } from "../faults/_races.ts";
import {
  commandLine,
  run,
  sameBytes,
  tempDir,
  textBytes,
  tinybackup,
  visibleFiles,
} from "./_cli.ts";

const QUEUE = "x";
const AT = programs("at", "atq", "atrm");
const withAt = await needs("cli/schedule_test.ts", AT);
// Only doctor looks at the daemon: every other test runs its jobs itself.
const withAtd = await needs("cli/schedule_test.ts: the doctor test", AT, AT_DAEMON);
const withAtAndGunzip = await needs("cli/schedule_test.ts: a job run", AT, programs("gunzip"));

/** A test folder with its own run-log state, and tinybackup run in the test queue. */
async function setUp() {
  await emptyQueue(QUEUE);
  const dir = await tempDir();
  const env = { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
  const cli = (args: string[]) => tinybackup(args, { env });
  return {
    dir: dir.path,
    env,
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

/** Takes job `n` off the queue (`at -c`, `atrm`) and runs it, as atd would. */
async function runAsAtd(n: number): Promise<{ code: number; stderr: string }> {
  return await runScript(await takeJob(n));
}

const test = (name: string, fn: () => Promise<void>, gate = withAt) =>
  gate.test(`schedule: ${name}`, fn);

test("--every backs up now and queues one at job that jobs describes", async () => {
  await using t = await setUp();
  await Deno.writeFile(`${t.dir}/notes.db`, textBytes(100));
  const before = Date.now();
  const r = await t.cli(["--file", `${t.dir}/notes.db`, "--dest", `${t.dir}/b`, "--every", "6h"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\/b\/notes\.db\.\d{8}T\d{6}Z\.gz\n$/);
  assert.match(r.stderr, /scheduled job [0-9a-f]{8}: every 6h/);
  const numbers = await queued(QUEUE);
  assert.equal(numbers.length, 1);
  const [job] = await t.jobs();
  assert.equal(job.atJob, numbers[0]);
  assert.equal(job.file, `${t.dir}/notes.db`);
  assert.equal(job.dest, `${t.dir}/b`);
  assert.equal(job.schedule, "every 6h");
  assert.equal(job.lastRun, null);
  const next = Date.parse(job.next as string);
  assert.ok(Math.abs(next - (before + 6 * 3600_000)) < 61_000, `next ${job.next}`);
  const script = new TextDecoder().decode(await jobScript(numbers[0]));
  assert.match(script, /^# tinybackup-job \{.*"id":"[0-9a-f]{8}"/m);
  assert.ok(
    !/IS_SANDBOX|GITHUB_TOKEN|SECRET/.test(script),
    "at stores only the environment a run needs",
  );
});

test("a queued job, run as atd runs it, backs up the file and queues its successor", async () => {
  await using t = await setUp();
  const file = `${t.dir}/notes.db`;
  await Deno.writeFile(file, textBytes(100));
  await t.cli(["--file", file, "--dest", `${t.dir}/b`, "--every", "1d", "--at", "02:00"]);
  const [first] = await t.jobs();
  await Deno.writeFile(file, textBytes(100, 1));
  const ran = await runAsAtd(first.atJob as number);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stderr, "", "a good run prints nothing, so at sends no mail");
  const names = await visibleFiles(`${t.dir}/b`);
  assert.equal(names.length, 2);
  const newest = names.sort().at(-1)!;
  assert.ok(sameBytes(await run("gunzip", ["-c", `${t.dir}/b/${newest}`]), textBytes(100, 1)));
  const [successor] = await t.jobs();
  assert.equal(successor.id, first.id, "the id stays for the job's whole life");
  assert.notEqual(successor.atJob, first.atJob);
  assert.match(new Date(successor.next as string).toTimeString(), /^02:00:00/);
  assert.equal((successor.lastRun as { result: string }).result, "ok");
  const log = await t.log();
  assert.equal(log.length, 1);
  assert.equal(log[0].id, first.id);
  assert.equal(log[0].nextAtJob, successor.atJob);
}, withAtAndGunzip);

test("a job keeps its calendar retention: each run rotates by it", async () => {
  await using t = await setUp();
  const file = `${t.dir}/notes.db`;
  const dest = `${t.dir}/b`;
  await Deno.writeFile(file, textBytes(100));
  const r = await t.cli([
    "--file",
    file,
    "--dest",
    dest,
    "--every",
    "1d",
    "--keep",
    "1",
    "--keep-yearly",
    "2",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [job] = await t.jobs();
  assert.equal(job.retention, "last 1, yearly 2");
  assert.equal(job.keep, null, "not simply the newest 1: the yearly rule keeps others");
  for (const seed of [1, 2]) {
    await Deno.writeFile(file, textBytes(100, seed));
    const [queuedJob] = await t.jobs();
    const ran = await runAsAtd(queuedJob.atJob as number);
    assert.equal(ran.code, 0, ran.stderr);
  }
  // All three are of this year: the newest stays (last, yearly), the middle one goes, and
  // the oldest stays because the yearly rule still has count left when it is reached.
  const kept = [];
  for (const name of (await visibleFiles(dest)).sort()) {
    kept.push(await run("gunzip", ["-c", `${dest}/${name}`]));
  }
  assert.equal(kept.length, 2);
  assert.ok(sameBytes(kept[0], textBytes(100)) && sameBytes(kept[1], textBytes(100, 2)));
}, withAtAndGunzip);

test("--schedule-only queues the job, prints its id and backs up nothing", async () => {
  await using t = await setUp();
  await Deno.writeFile(`${t.dir}/notes.db`, textBytes(10));
  const r = await t.cli([
    "--file",
    `${t.dir}/notes.db`,
    "--dest",
    `${t.dir}/b`,
    "--every",
    "30m",
    "--schedule-only",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [job] = await t.jobs();
  assert.equal(r.stdout, `${job.id}\n`);
  assert.equal(await Deno.stat(`${t.dir}/b`).catch(() => undefined), undefined);
});

test("--time re-applies an at(1) time spec after each run", async () => {
  await using t = await setUp();
  await Deno.writeFile(`${t.dir}/notes.db`, textBytes(10));
  const r = await t.cli([
    "--file",
    `${t.dir}/notes.db`,
    "--dest",
    `${t.dir}/b`,
    "--time",
    "now + 2 hours",
    "--schedule-only",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [job] = await t.jobs();
  assert.equal(job.schedule, "at 'now + 2 hours'");
  assert.ok(Math.abs(Date.parse(job.next as string) - (Date.now() + 2 * 3600_000)) < 121_000);
  const ran = await runAsAtd(job.atJob as number);
  assert.equal(ran.code, 0, ran.stderr);
  const [again] = await t.jobs();
  assert.equal(again.id, job.id);
  assert.equal(again.schedule, "at 'now + 2 hours'");
});

test("--runs N stops after N scheduled runs", async () => {
  await using t = await setUp();
  await Deno.writeFile(`${t.dir}/notes.db`, textBytes(10));
  await t.cli([
    "--file",
    `${t.dir}/notes.db`,
    "--dest",
    `${t.dir}/b`,
    "--every",
    "1h",
    "--runs",
    "2",
    "--schedule-only",
  ]);
  const [one] = await t.jobs();
  assert.equal(one.runsLeft, 2);
  assert.equal((await runAsAtd(one.atJob as number)).code, 0);
  const [two] = await t.jobs();
  assert.equal(two.runsLeft, 1);
  assert.equal((await runAsAtd(two.atJob as number)).code, 0);
  assert.deepEqual(await queued(QUEUE), [], "no run after the last");
  assert.equal((await t.log()).length, 2);
});

test("a missing source fails each run but keeps the chain; --stop-if-missing stops the job", async () => {
  await using t = await setUp();
  for (const name of ["keep.db", "stop.db"]) {
    await Deno.writeFile(`${t.dir}/${name}`, textBytes(10));
  }
  await t.cli([
    "--file",
    `${t.dir}/keep.db`,
    "--dest",
    `${t.dir}/b`,
    "--every",
    "1h",
    "--schedule-only",
  ]);
  await t.cli([
    "--file",
    `${t.dir}/stop.db`,
    "--dest",
    `${t.dir}/b`,
    "--every",
    "1h",
    "--schedule-only",
    "--stop-if-missing",
  ]);
  await Deno.remove(`${t.dir}/keep.db`);
  await Deno.remove(`${t.dir}/stop.db`);
  const jobs = await t.jobs();
  assert.ok(jobs.every((j) => (j.problems as string[]).some((p) => p.includes("source is gone"))));
  const keep = jobs.find((j) => j.file === `${t.dir}/keep.db`)!;
  const stop = jobs.find((j) => j.file === `${t.dir}/stop.db`)!;

  const failed = await runAsAtd(keep.atJob as number);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /^tinybackup: error: job [0-9a-f]{8}: file not found/m);
  const stopped = await runAsAtd(stop.atJob as number);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /stopped: the source is gone/);

  const left = await t.jobs();
  assert.deepEqual(
    left.map((j) => j.id),
    [keep.id],
    "the failing job queued its next run; the other stopped",
  );
  const results = Object.fromEntries((await t.log()).map((r) => [r.id, r.result]));
  assert.deepEqual(results, { [keep.id as string]: "failed", [stop.id as string]: "stopped" });
});

test("the same job scheduled twice is reported, not doubled", async () => {
  await using t = await setUp();
  await Deno.writeFile(`${t.dir}/notes.db`, textBytes(10));
  const args = [
    "--file",
    `${t.dir}/notes.db`,
    "--dest",
    `${t.dir}/b`,
    "--every",
    "1d",
    "--schedule-only",
  ];
  const first = await t.cli(args);
  const second = await t.cli(args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /already scheduled as job [0-9a-f]{8}/);
  assert.equal(second.stdout, first.stdout);
  assert.equal((await queued(QUEUE)).length, 1);
});

test("unschedule removes jobs by id, by file and destination, or all; unknown ids exit 1", async () => {
  await using t = await setUp();
  for (const name of ["a", "b", "c"]) {
    await Deno.writeFile(`${t.dir}/${name}`, textBytes(10));
    await t.cli([
      "--file",
      `${t.dir}/${name}`,
      "--dest",
      `${t.dir}/d`,
      "--every",
      "1h",
      "--schedule-only",
    ]);
  }
  const ids = Object.fromEntries(
    (await t.jobs()).map((j) => [(j.file as string).slice(-1), j.id as string]),
  );
  const dry = await t.cli(["unschedule", "--all", "--dry-run"]);
  assert.equal(dry.stdout.trim().split("\n").length, 3);
  assert.equal((await queued(QUEUE)).length, 3, "a dry run removes nothing");

  const byId = await t.cli(["unschedule", ids.a]);
  assert.equal(byId.code, 0, byId.stderr);
  assert.equal(byId.stdout, `${ids.a}\n`);
  const byPaths = await t.cli(["unschedule", "--file", `${t.dir}/b`, "--dest", `${t.dir}/d`]);
  assert.equal(byPaths.stdout, `${ids.b}\n`);
  assert.deepEqual((await t.jobs()).map((j) => j.id), [ids.c]);

  const unknown = await t.cli(["unschedule", "0123abcd"]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, "");
  assert.match(unknown.stderr, /tinybackup: error: no scheduled job with id 0123abcd/);
  assert.equal((await t.cli(["unschedule", "--all"])).stdout, `${ids.c}\n`);
  assert.deepEqual(await queued(QUEUE), []);
});

test("unschedule --name selects the jobs of any source by series name and destination", async () => {
  await using t = await setUp();
  const schedule = (name: string, dest: string) =>
    t.cli([
      "--command",
      "echo data",
      "--name",
      name,
      "--dest",
      `${t.dir}/${dest}`,
      "--every",
      "1h",
      "--schedule-only",
    ]);
  for (const [name, dest] of [["app.sql", "d"], ["app.sql", "e"], ["other.sql", "d"]]) {
    assert.equal((await schedule(name, dest)).code, 0);
  }
  const before = await t.jobs();
  const meant = before.find((j) => j.name === "app.sql" && (j.dest as string).endsWith("/d"))!;

  const byName = await t.cli(["unschedule", "--name", "app.sql", "--dest", `${t.dir}/d`]);
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(byName.stdout, `${meant.id}\n`);
  assert.deepEqual(
    (await t.jobs()).map((j) => j.id).sort(),
    before.filter((j) => j.id !== meant.id).map((j) => j.id).sort(),
  );

  const none = await t.cli(["unschedule", "--name", "app.sql", "--dest", `${t.dir}/d`]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /no job backs up the series 'app\.sql' to /);

  const both = await t.cli(["unschedule", "--name", "x", "--file", "y", "--dest", `${t.dir}/d`]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /tinybackup: error: unschedule takes --file or --name, not both/);
  const noDest = await t.cli(["unschedule", "--name", "app.sql"]);
  assert.equal(noDest.code, 2);
  assert.match(noDest.stderr, /unschedule needs --dest with --file or --name/);
  assert.equal((await t.jobs()).length, 2, "bad input removes nothing");
});

test("a job holds the paths the kernel means, and unschedule finds it by the same words", async () => {
  await using t = await setUp();
  await Deno.mkdir(`${t.dir}/real/sub`, { recursive: true });
  await Deno.symlink(`${t.dir}/real/sub`, `${t.dir}/data`);
  await Deno.writeFile(`${t.dir}/real/config.yml`, textBytes(10));
  const paths = ["--file", `${t.dir}/data/../config.yml`, "--dest", `${t.dir}/data/../bk`];
  const scheduled = await t.cli([...paths, "--every", "1h", "--schedule-only"]);
  assert.equal(scheduled.code, 0, scheduled.stderr);
  const [job] = await t.jobs();
  assert.equal(job.file, `${t.dir}/real/config.yml`);
  assert.equal(job.dest, `${t.dir}/real/bk`);
  const removed = await t.cli(["unschedule", ...paths]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, `${job.id}\n`);
  assert.deepEqual(await queued(QUEUE), []);
});

test("a run that starts while it is being unscheduled does not queue itself again", async () => {
  await using t = await setUp();
  await Deno.writeFile(`${t.dir}/notes.db`, textBytes(10));
  await t.cli([
    "--file",
    `${t.dir}/notes.db`,
    "--dest",
    `${t.dir}/b`,
    "--every",
    "1h",
    "--schedule-only",
  ]);
  const [job] = await t.jobs();
  // atd has taken the job off the queue to run it; unschedule cannot see it there.
  const script = await takeJob(job.atJob as number);
  await t.cli(["unschedule", job.id as string]);
  const { code, stderr } = await runScript(script);
  assert.equal(code, 0, stderr);
  assert.deepEqual(await queued(QUEUE), []);
  assert.equal((await t.log())[0].result, "cancelled");
});

test("unschedule during a running backup removes the successor it queued", async () => {
  await using t = await setUp();
  const file = `${t.dir}/big.bin`;
  // Random data compresses slowly: the run is still busy when we unschedule.
  await run("sh", ["-c", `head -c 150000000 /dev/urandom > "$1"`, "sh", file]);
  await t.cli(["--file", file, "--dest", `${t.dir}/b`, "--every", "1h", "--schedule-only"]);
  const [job] = await t.jobs();
  const script = await takeJob(job.atJob as number);
  const running = runScript(script);
  const deadline = Date.now() + 30_000;
  while ((await queued(QUEUE)).length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await queued(QUEUE)).length, 1, "the run queued its successor first");
  const un = await t.cli(["unschedule", job.id as string]);
  assert.equal(un.code, 0, un.stderr);
  const { code, stderr } = await running;
  assert.equal(code, 0, stderr);
  assert.deepEqual(await queued(QUEUE), [], "nothing queued after the run ends");
  assert.equal((await visibleFiles(`${t.dir}/b`)).length, 1, "the running backup still completed");
});

test("paths with quotes, $(), backticks, newlines and unicode survive the job script", async () => {
  await using t = await setUp();
  const name = `it's "x" $(touch pwned) \`touch pwned2\` a\nb ü.db`;
  const dest = `${t.dir}/d 'e' $(f)`;
  await Deno.writeFile(`${t.dir}/${name}`, textBytes(10));
  const r = await t.cli([
    `--file=${t.dir}/${name}`,
    `--dest=${dest}`,
    "--every",
    "1h",
    "--schedule-only",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [job] = await t.jobs();
  assert.equal(job.file, `${t.dir}/${name}`);
  const ran = await runAsAtd(job.atJob as number);
  assert.equal(ran.code, 0, ran.stderr);
  const list = JSON.parse((await t.cli(["list", "--dest", dest, "--json"])).stdout);
  assert.equal(list.length, 1);
  assert.equal(list[0].name, name);
  for (const planted of ["pwned", "pwned2"]) {
    for (const where of [t.dir, "/", Deno.cwd()]) {
      assert.equal(await Deno.stat(`${where}/${planted}`).catch(() => undefined), undefined);
    }
  }
  assert.equal((await t.cli(["unschedule", job.id as string])).code, 0);
});

test("jobs, log and a failed run's mail show a hostile file name escaped, one line each", async () => {
  await using t = await setUp();
  const name = "\u001b]0;pwned\u0007x\n2030-01-01 02:00  deadbeef  ok         forged.db";
  const shown = "\\x1b]0;pwned\\x07x\\n2030-01-01 02:00  deadbeef  ok         forged.db";
  const file = `${t.dir}/${name}`;
  await Deno.writeFile(file, textBytes(10));
  const r = await t.cli([
    "--file",
    file,
    "--dest",
    `${t.dir}/b`,
    "--every",
    "1h",
    "--schedule-only",
  ]);
  assert.equal(r.code, 0, r.stderr);
  /** The lines of a human-readable output, none holding a raw control character. */
  const lines = (output: string) => {
    const all = output.slice(0, -1).split("\n");
    for (const line of all) assert.doesNotMatch(line, /[\p{Cc}\p{Cf}]/u, JSON.stringify(line));
    return all;
  };

  const [job] = await t.jobs();
  const jobs = lines((await t.cli(["jobs"])).stdout);
  assert.equal(jobs.length, 1, jobs.join("\n"));
  assert.ok(jobs[0].endsWith(`  ${t.dir}/${shown} -> ${t.dir}/b`), jobs[0]);
  assert.equal((await runAsAtd(job.atJob as number)).code, 0);
  const ok = lines((await t.cli(["log"])).stdout);
  assert.equal(ok.length, 1, ok.join("\n"));
  assert.ok(ok[0].includes(`  ok         backed up to ${t.dir}/b/${shown}.`), ok[0]);

  await Deno.remove(file);
  const [successor] = await t.jobs();
  const failed = await runAsAtd(successor.atJob as number);
  assert.equal(failed.code, 1);
  assert.equal(lines(failed.stderr).length, 1, failed.stderr);
  assert.ok(failed.stderr.includes(`file not found: ${t.dir}/${shown}\n`), failed.stderr);
  const log = lines((await t.cli(["log"])).stdout);
  assert.equal(log.length, 2, log.join("\n"));
  assert.ok(log[1].includes(`  failed     file not found: ${t.dir}/${shown}`), log[1]);
  const gone = lines((await t.cli(["jobs"])).stdout);
  assert.equal(gone.length, 2, gone.join("\n"));
  assert.ok(gone[1].startsWith("  problem: the source is gone"), gone[1]);
});

test("doctor says scheduling works here, and explains a missing at", async () => {
  await using t = await setUp();
  const ok = await t.cli(["doctor"]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^ok +at, atq and atrm are installed$/m);
  const noAt = await tinybackup(["doctor"], { env: { ...t.env, PATH: "/nonexistent" } });
  assert.equal(noAt.code, 1);
  assert.match(noAt.stdout, /^problem +at, atq, atrm not found on PATH\n +fix: install at/m);
  const jobsWithoutAt = await tinybackup(["jobs"], { env: { ...t.env, PATH: "/nonexistent" } });
  assert.equal(jobsWithoutAt.code, 1);
  assert.match(
    jobsWithoutAt.stderr,
    /tinybackup: error: atq is not installed.*\ntinybackup: hint: .*doctor/,
  );
}, withAtd);

test("at queues the job for the moment jobs reports, whatever the time zone", async () => {
  await using t = await setUp();
  await Deno.writeFile(`${t.dir}/notes.db`, textBytes(10));
  for (const tz of ["Asia/Kolkata", "America/New_York", "<+03>-3"]) {
    const env = { ...t.env, TZ: tz };
    const r = await tinybackup(
      [
        "--file",
        `${t.dir}/notes.db`,
        "--dest",
        `${t.dir}/b`,
        "--every",
        "1d",
        "--at",
        "02:00",
        "--schedule-only",
      ],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    const [job] = JSON.parse((await tinybackup(["jobs", "--json"], { env })).stdout);
    // atq prints the queued moment in its own zone: ask for UTC.
    const line = (await atq(QUEUE, { TZ: "UTC" })).split("\n").find((l) =>
      parseInt(l) === job.atJob
    )!;
    const queuedAt = new Date(line.split("\t")[1].replace(/ \S+ \S+$/, "") + " UTC");
    assert.equal(queuedAt.toISOString(), job.next, `${tz}: ${line}`);
    await t.cli(["unschedule", "--all"]);
  }
});

test("a job run that finds another run of its series going waits, then logs since when, and keeps its chain", async () => {
  await using t = await setUp();
  const file = `${t.dir}/notes.db`;
  const dest = `${t.dir}/b`;
  await Deno.writeFile(file, new Uint8Array(64 * 1024 * 1024).map((_, i) => (i * 7919) >> 3));
  const scheduled = await t.cli([
    "--file",
    file,
    "--dest",
    dest,
    "--every",
    "1h",
    "--schedule-only",
  ]);
  assert.equal(scheduled.code, 0, scheduled.stderr);
  const [job] = await t.jobs();

  // A backup by hand, paused mid-read, holds the series.
  const [program, ...args] = commandLine(["--file", file, "--dest", dest]);
  const manual = new Deno.Command(program, { args, stdout: "null", stderr: "null" }).spawn();
  try {
    assert.ok(await stopAfterReading(manual.pid, file, 8 * 1024 * 1024), "caught mid-read");
    const ran = await runAsAtd(job.atJob as number);
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, new RegExp(`has been running since .* \\(pid ${manual.pid}\\)`));
    const [record] = (await t.log()).slice(-1);
    assert.equal(record.result, "failed");
    assert.match(
      record.message as string,
      new RegExp(
        `^another run of 'notes\\.db' to .* has been running since .* \\(pid ${manual.pid}\\); this run made no backup$`,
      ),
    );
    // The next run was queued before the backup was tried: the chain holds.
    assert.equal((await queued(QUEUE)).length, 1);
  } finally {
    manual.kill("SIGCONT");
    await manual.status;
  }
});

test("a running mark left by a killed run does not make its job look alive", async () => {
  await using t = await setUp();
  // What a run killed with SIGKILL leaves: its mark, no longer held by anyone.
  await Deno.mkdir(`${t.dir}/state/tinybackup/running`, { recursive: true });
  await Deno.writeTextFile(`${t.dir}/state/tinybackup/running/0badc0de`, "2026-01-01T00:00:00Z\n");
  const r = await t.cli(["unschedule", "0badc0de"]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /no scheduled job with id 0badc0de/);
  assert.deepEqual([...Deno.readDirSync(`${t.dir}/state/tinybackup/running`)], []);
});
