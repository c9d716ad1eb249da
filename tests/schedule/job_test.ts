import assert from "node:assert/strict";
import { keepLast } from "../../lib/backup/retention.ts";
import {
  commandFiles,
  describeSchedule,
  type Job,
  jobScript,
  type JobSettings,
  newJob,
  newJobId,
  parseJob,
  parseJobScript,
  sameJob,
  successor,
} from "../../lib/schedule/job.ts";

const NOW = new Date("2026-06-10T10:17:42.123Z");
/** Where a job script would log a missing program; these jobs' programs exist. */
const RUN_LOG = "/dev/null";
const ID = "0123abcd";
/** How a job runs from source: see lib/schedule/self_command.ts. */
const SOURCE_COMMAND = [
  "/usr/bin/deno",
  "run",
  "-q",
  "-P=tinybackup",
  "--config",
  "/opt/tinybackup/deno.json",
  "/opt/tinybackup/main.ts",
];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function settings(overrides: Partial<JobSettings> = {}): JobSettings {
  return {
    name: "notes.db",
    source: { kind: "file", path: "/home/ed/notes.db" },
    dest: "/mnt/backup",
    retention: keepLast(7),
    compression: "gzip",
    every: { text: "6h", minutes: 360 },
    runs: null,
    stopIfMissing: false,
    command: SOURCE_COMMAND,
    ...overrides,
  };
}

/** The job as JSON carries it: properties that are undefined are left out. */
function plain(job: Job): Job {
  return JSON.parse(JSON.stringify(job));
}

/** A job whose every string is one a shell or a line-based parser would trip on. */
function hostileJob(command: string[]): Job {
  return newJob(
    settings({
      name: 'it\'s "quoted" $(touch name) `touch tick` %s %d\nline two 日本語 😀 \\ * ~',
      source: {
        kind: "file",
        path: '/tmp/it\'s "q"/$(touch file)/`touch tick`/line\nbreak/\r\t/日本語 😀.db',
      },
      dest: "/mnt/back up/'; touch dest; '/\\\"/-rf/~/*",
      compression: "zstd",
      every: undefined,
      time: "now + 1 hour '\"$(touch spec)\"'",
      runs: 3,
      stopIfMissing: true,
      command,
    }),
    NOW,
    ID,
  );
}

// newJobId

Deno.test("newJobId gives eight lowercase hex digits, different each time", () => {
  const ids = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const id = newJobId();
    assert.match(id, /^[0-9a-f]{8}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 200);
});

// newJob

Deno.test("newJob --every 6h: anchored at now to the minute, first run one interval later", () => {
  assert.deepEqual(newJob(settings(), NOW, ID), {
    id: ID,
    name: "notes.db",
    source: { kind: "file", path: "/home/ed/notes.db" },
    dest: "/mnt/backup",
    retention: keepLast(7),
    compression: "gzip",
    schedule: {
      kind: "every",
      every: "6h",
      everyMinutes: 360,
      at: undefined,
      anchor: "2026-06-10T10:17:00.000Z",
    },
    runsLeft: null,
    stopIfMissing: false,
    next: "2026-06-10T16:17:00.000Z",
    command: SOURCE_COMMAND,
  });
});

Deno.test("newJob --every 30m: next is the first slot after now", () => {
  const job = newJob(settings({ every: { text: "30m", minutes: 30 } }), NOW, ID);
  assert.equal(job.next, "2026-06-10T10:47:00.000Z");
  assert.ok(new Date(job.next!).getTime() > NOW.getTime());
});

Deno.test("newJob --every 1d --at: today at that time if still to come, else tomorrow", () => {
  const now = new Date(2026, 5, 10, 14, 0, 30);
  const every = { text: "1d", minutes: 24 * 60 };
  const later = newJob(settings({ every, at: "23:30" }), now, ID);
  assert.deepEqual(later.schedule, {
    kind: "every",
    every: "1d",
    everyMinutes: 1440,
    at: "23:30",
    anchor: new Date(2026, 5, 10, 23, 30).toISOString(),
  });
  assert.equal(later.next, new Date(2026, 5, 10, 23, 30).toISOString());
  const passed = newJob(settings({ every, at: "02:00" }), now, ID);
  assert.equal(passed.next, new Date(2026, 5, 11, 2, 0).toISOString());
});

Deno.test("newJob --every 1d without --at runs at the time of day it was made", () => {
  const now = new Date(2026, 5, 10, 14, 5, 30);
  const job = newJob(settings({ every: { text: "1d", minutes: 24 * 60 } }), now, ID);
  assert.equal(job.next, new Date(2026, 5, 11, 14, 5).toISOString());
});

Deno.test("newJob --time: at(1) decides when, so next is null", () => {
  const job = newJob(settings({ every: undefined, time: "now + 1 hour" }), NOW, ID);
  assert.deepEqual(job.schedule, { kind: "time", spec: "now + 1 hour" });
  assert.equal(job.next, null);
});

Deno.test("newJob keeps runs, stop-if-missing, compression and the command", () => {
  const command = ["/usr/local/bin/tinybackup"];
  const job = newJob(
    settings({
      runs: 3,
      stopIfMissing: true,
      compression: "none",
      retention: keepLast(0),
      command,
    }),
    NOW,
    ID,
  );
  assert.equal(job.runsLeft, 3);
  assert.equal(job.stopIfMissing, true);
  assert.equal(job.compression, "none");
  assert.deepEqual(job.retention, keepLast(0));
  assert.deepEqual(job.command, command);
});

Deno.test("newJob makes a fresh id when none is given", () => {
  const a = newJob(settings(), NOW);
  const b = newJob(settings(), NOW);
  assert.match(a.id, /^[0-9a-f]{8}$/);
  assert.notEqual(a.id, b.id);
});

// successor

Deno.test("successor counts runs down and moves next to the first slot after now", () => {
  const job = newJob(settings({ runs: 3 }), NOW, ID);
  const ranAt = new Date(job.next!);
  const next = successor(job, ranAt)!;
  assert.deepEqual(next, { ...job, runsLeft: 2, next: "2026-06-10T22:17:00.000Z" });
});

Deno.test("successor: --runs 3 runs exactly three times", () => {
  let job: Job | undefined = newJob(settings({ runs: 3 }), NOW, ID);
  const runs: string[] = [];
  while (job) {
    runs.push(job.next!);
    job = successor(job, new Date(job.next!));
    assert.ok(runs.length <= 3, "no more than three runs");
  }
  assert.deepEqual(runs, [
    "2026-06-10T16:17:00.000Z",
    "2026-06-10T22:17:00.000Z",
    "2026-06-11T04:17:00.000Z",
  ]);
});

Deno.test("successor of the last run is undefined", () => {
  assert.equal(successor(newJob(settings({ runs: 1 }), NOW, ID), NOW), undefined);
});

Deno.test("successor without a run limit never ends", () => {
  let job = newJob(settings(), NOW, ID);
  for (let i = 0; i < 50; i++) {
    job = successor(job, new Date(job.next!))!;
    assert.equal(job.runsLeft, null);
  }
  assert.equal(
    job.next,
    new Date(Date.parse("2026-06-10T10:17:00.000Z") + 51 * 6 * HOUR).toISOString(),
  );
});

Deno.test("successor of a run that starts late stays on the grid", () => {
  const job = newJob(settings(), NOW, ID);
  const late = new Date(Date.parse(job.next!) + 3 * MINUTE);
  assert.equal(successor(job, late)!.next, "2026-06-10T22:17:00.000Z");
});

Deno.test("successor after the machine was off does not replay missed runs", () => {
  const job = newJob(settings({ runs: 10 }), NOW, ID);
  const back = new Date("2026-06-13T19:00:00.000Z");
  const next = successor(job, back)!;
  assert.equal(next.next, "2026-06-13T22:17:00.000Z");
  assert.equal(next.runsLeft, 9);
});

Deno.test("successor of a --time job keeps next null and still counts down", () => {
  const job = newJob(settings({ every: undefined, time: "02:00", runs: 2 }), NOW, ID);
  const next = successor(job, NOW)!;
  assert.equal(next.next, null);
  assert.equal(next.runsLeft, 1);
  assert.deepEqual(next.schedule, job.schedule);
  assert.equal(successor(next, NOW), undefined);
});

Deno.test("successor leaves the given job alone", () => {
  const job = newJob(settings({ runs: 5 }), NOW, ID);
  const before = structuredClone(job);
  successor(job, new Date("2026-07-01T00:00:00Z"));
  assert.deepEqual(job, before);
});

// jobScript and parseJobScript

Deno.test("jobScript is the marker line, a check that the program is there, and one exec line", () => {
  const job = newJob(settings({ command: ["/usr/local/bin/tinybackup"] }), NOW, ID);
  const json = JSON.stringify(job);
  const lines = jobScript(job, "/home/me/.local/state/tinybackup/runs.log").split("\n");
  assert.equal(lines[0], `# tinybackup-job ${json}`);
  assert.equal(lines[1], "if [ ! -x '/usr/local/bin/tinybackup' ]; then");
  assert.match(lines[2], />> '\/home\/me\/\.local\/state\/tinybackup\/runs\.log'$/);
  assert.equal(lines.at(-2), `exec '/usr/local/bin/tinybackup' 'run-job' '${json}'`);
  assert.equal(lines.at(-1), "");
});

Deno.test("a job script whose program is gone logs a failed run and says so on stderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-job-" });
  try {
    const job = newJob(settings({ command: [`${dir}/gone/tinybackup`] }), NOW, ID);
    await Deno.writeTextFile(`${dir}/job.sh`, jobScript(job, `${dir}/runs.log`));
    const { code, stderr } = await new Deno.Command("sh", {
      args: [`${dir}/job.sh`],
      stderr: "piped",
    })
      .output();
    assert.equal(code, 1);
    assert.equal(
      new TextDecoder().decode(stderr),
      `tinybackup: error: job ${ID}: the program it runs is gone: ${dir}/gone/tinybackup\n`,
    );
    const record = JSON.parse(await Deno.readTextFile(`${dir}/runs.log`));
    assert.equal(record.id, ID);
    assert.equal(record.result, "failed");
    assert.match(record.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.match(record.message, /the program it runs is gone/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a job script whose program is gone mails its path escaped, and logs it exact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-job-" });
  try {
    const program = `${dir}/gone\x1b]0;pwned\x07\n2030-01-01 forged/tinybackup`;
    const job = newJob(settings({ command: [program] }), NOW, ID);
    await Deno.writeTextFile(`${dir}/job.sh`, jobScript(job, `${dir}/runs.log`));
    const { code, stderr } = await new Deno.Command("sh", {
      args: [`${dir}/job.sh`],
      stderr: "piped",
    })
      .output();
    assert.equal(code, 1);
    assert.equal(
      new TextDecoder().decode(stderr),
      `tinybackup: error: job ${ID}: the program it runs is gone: ${dir}/gone\\x1b]0;pwned\\x07\\n2030-01-01 forged/tinybackup\n`,
    );
    const record = JSON.parse(await Deno.readTextFile(`${dir}/runs.log`));
    assert.equal(record.message, `the program it runs is gone: ${program}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jobScript and parseJobScript round-trip a job", () => {
  for (
    const job of [
      newJob(settings(), NOW, ID),
      newJob(settings({ every: { text: "1d", minutes: 1440 }, at: "02:00", runs: 4 }), NOW, ID),
      newJob(settings({ every: undefined, time: "now + 1 hour" }), NOW, ID),
    ]
  ) {
    assert.deepEqual(parseJobScript(jobScript(job, RUN_LOG)), plain(job));
  }
});

Deno.test("jobScript keeps the marker one line and round-trips hostile paths and names", () => {
  const job = hostileJob(['/opt/my tools/it\'s "here"/$(deno)/deno', "run", "/opt/`x`/main.ts"]);
  const script = jobScript(job, RUN_LOG);
  const [marker] = script.split("\n");
  assert.ok(marker.startsWith("# tinybackup-job {"));
  assert.deepEqual(JSON.parse(marker.slice("# tinybackup-job ".length)), plain(job));
  assert.deepEqual(parseJobScript(script), plain(job));
});

Deno.test("parseJobScript finds the job in what `at -c` prints (Debian)", () => {
  const job = hostileJob(SOURCE_COMMAND);
  const atC = "#!/bin/sh\n# atrun uid=1000 gid=1000\n# mail ed 0\numask 22\n" +
    "PATH=/usr/local/bin:/usr/bin:/bin; export PATH\n" +
    "HOME=/home/ed; export HOME\n" +
    "LANG=C.UTF-8; export LANG\n" +
    "cd / || {\n\t echo 'Execution directory inaccessible' >&2\n\t exit 1\n}\n" +
    jobScript(job, RUN_LOG) + "\n";
  assert.deepEqual(parseJobScript(atC), plain(job));
});

Deno.test("parseJobScript gives undefined for at jobs that are not tinybackup's", () => {
  const header = "#!/bin/sh\n# atrun uid=1000 gid=1000\n# mail ed 0\numask 22\n" +
    "HOME=/home/ed; export HOME\ncd /home/ed || {\n\t echo 'Execution directory inaccessible' >&2\n" +
    "\t exit 1\n}\n";
  const valid = JSON.stringify(newJob(settings(), NOW, ID));
  for (
    const text of [
      "",
      header + "echo hello\n",
      header + "/usr/bin/make -C /src backup\n",
      header + `echo '# tinybackup-job ${valid}'\n`, // the marker not at the start of a line
      header + `#tinybackup-job ${valid}\n`,
      header + "# tinybackup-job {not json\n",
      header + "# tinybackup-job \n",
      header + '# tinybackup-job {"id":"demo"}\nexec /bin/true\n',
    ]
  ) {
    assert.equal(parseJobScript(text), undefined, text);
  }
});

Deno.test("parseJobScript reads the marker only at the start of a line", () => {
  const job = newJob(settings(), NOW, ID);
  const other = JSON.stringify(newJob(settings({ name: "other.db" }), NOW, "ffffffff"));
  const script = `#!/bin/sh\necho 'see # tinybackup-job ${other}'\n` + jobScript(job, RUN_LOG);
  assert.deepEqual(parseJobScript(script), plain(job));
});

/** Runs `script` as a file with sh, the way atd runs a job, in an empty folder. */
async function runWithSh(
  script: string,
): Promise<{ code: number; stdout: string; left: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-job-" });
  try {
    await Deno.writeTextFile(`${dir}/job.sh`, script);
    const { code, stdout } = await new Deno.Command("sh", {
      args: ["job.sh"],
      cwd: dir,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const left: string[] = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    return { code, stdout: new TextDecoder("utf-8", { fatal: true }).decode(stdout), left };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("jobScript run by a real sh passes run-job and the JSON byte for byte", async () => {
  // printf %s prints its arguments one after another: "run-job", then the JSON as sh passed it.
  const job = hostileJob(["/usr/bin/printf", "%s"]);
  const { code, stdout, left } = await runWithSh(jobScript(job, RUN_LOG));
  assert.equal(code, 0);
  assert.equal(stdout, "run-job" + JSON.stringify(job));
  assert.deepEqual(parseJob(stdout.slice("run-job".length)), plain(job));
  assert.deepEqual(left, ["job.sh"], "nothing in the job was run by sh");
});

Deno.test("jobScript run by a real sh passes each command part as one argument", async () => {
  // printf <%s> marks where each argument starts and ends.
  const job = newJob(
    settings({ command: ["/usr/bin/printf", "<%s>", "two words", "it's"] }),
    NOW,
    ID,
  );
  const { code, stdout } = await runWithSh(jobScript(job, RUN_LOG));
  assert.equal(code, 0);
  assert.equal(stdout, `<two words><it's><run-job><${JSON.stringify(job)}>`);
});

// parseJob

const VALID = plain(newJob(settings({ runs: 3 }), NOW, ID));

Deno.test("parseJob accepts a valid job, with and without limits", () => {
  assert.deepEqual(parseJob(JSON.stringify(VALID)), VALID);
  const unlimited = { ...VALID, runsLeft: null, retention: keepLast(0) };
  assert.deepEqual(parseJob(JSON.stringify(unlimited)), unlimited);
  const timeJob = plain(newJob(settings({ every: undefined, time: "02:00" }), NOW, ID));
  assert.deepEqual(parseJob(JSON.stringify(timeJob)), timeJob);
});

Deno.test("parseJob accepts command and SQLite sources", () => {
  for (
    const source of [
      { kind: "command", command: "pg_dump -Fc 'my app'", okExit: [] },
      { kind: "command", command: "rsync-dump", okExit: [1, 24] },
      { kind: "sqlite", path: "/var/lib/app/app.db" },
    ]
  ) {
    const job = { ...VALID, source };
    assert.deepEqual(parseJob(JSON.stringify(job)), job);
  }
});

Deno.test("parseJob reads a job queued before sources had kinds (its file in 'file') as a file job", () => {
  const { source: _, ...rest } = VALID;
  const old = { ...rest, file: "/home/ed/notes.db" };
  assert.deepEqual(parseJob(JSON.stringify(old)), VALID);
  assert.throws(
    () => parseJob(JSON.stringify({ ...rest, file: "notes.db" })),
    /not a valid tinybackup job/,
  );
});

Deno.test("parseJob reads a job queued before calendar retention (its 'keep: N') as last N", () => {
  const { retention: _, ...rest } = VALID;
  assert.deepEqual(parseJob(JSON.stringify({ ...rest, keep: 7 })), VALID);
  const daily = {
    ...VALID,
    retention: { ...keepLast(0), daily: 7, within: { years: 1, months: 0, days: 0, hours: 0 } },
  };
  assert.deepEqual(parseJob(JSON.stringify(daily)), daily);
});

Deno.test("parseJob rejects a job with a field missing or wrong", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["id upper case", { id: "0123ABCD" }],
    ["id too short", { id: "0123abc" }],
    ["id too long", { id: "0123abcde" }],
    ["id not hex", { id: "zzzzzzzz" }],
    ["id a number", { id: 12345678 }],
    ["id missing", { id: undefined }],
    ["name empty", { name: "" }],
    ["name with a slash", { name: "a/b" }],
    ["name starting with a dot", { name: ".hidden" }],
    ["name not a string", { name: 5 }],
    ["relative file", { source: { kind: "file", path: "notes.db" } }],
    ["relative file ./", { source: { kind: "file", path: "./notes.db" } }],
    ["empty file", { source: { kind: "file", path: "" } }],
    ["relative sqlite", { source: { kind: "sqlite", path: "app.db" } }],
    ["unknown source kind", { source: { kind: "folder", path: "/srv" } }],
    ["empty command", { source: { kind: "command", command: " ", okExit: [] } }],
    ["command without okExit", { source: { kind: "command", command: "true" } }],
    ["command okExit 256", { source: { kind: "command", command: "true", okExit: [256] } }],
    ["source missing", { source: undefined }],
    ["relative dest", { dest: "backups" }],
    ["dest with ~", { dest: "~/backups" }],
    ["keep negative", { retention: keepLast(-1) }],
    ["keep fractional", { retention: keepLast(1.5) }],
    ["keep a string", { retention: { ...keepLast(7), last: "7" } }],
    ["retention without a rule", { retention: { last: 7 } }],
    ["daily negative", { retention: { ...keepLast(7), daily: -1 } }],
    ["within a string", { retention: { ...keepLast(7), within: "1y" } }],
    ["within missing a part", { retention: { ...keepLast(7), within: { years: 1 } } }],
    ["retention missing", { retention: undefined }],
    ["unknown compression", { compression: "bzip2" }],
    ["compression in capitals", { compression: "GZIP" }],
    ["compression missing", { compression: undefined }],
    ["runsLeft 0", { runsLeft: 0 }],
    ["runsLeft negative", { runsLeft: -1 }],
    ["runsLeft fractional", { runsLeft: 1.5 }],
    ["runsLeft a string", { runsLeft: "3" }],
    ["runsLeft missing", { runsLeft: undefined }],
    ["stopIfMissing a string", { stopIfMissing: "yes" }],
    ["next a number", { next: 5 }],
    ["next missing", { next: undefined }],
    ["empty command", { command: [] }],
    ["command a string", { command: "/usr/bin/tinybackup" }],
    ["relative program", { command: ["tinybackup"] }],
    ["command part not a string", { command: ["/usr/bin/deno", 5] }],
    ["schedule null", { schedule: null }],
    ["schedule missing", { schedule: undefined }],
    ["unknown schedule kind", { schedule: { kind: "cron", spec: "* * * * *" } }],
    ["every 0 minutes", { schedule: { ...VALID.schedule, everyMinutes: 0 } }],
    ["every fractional minutes", { schedule: { ...VALID.schedule, everyMinutes: 1.5 } }],
    ["every minutes a string", { schedule: { ...VALID.schedule, everyMinutes: "360" } }],
    ["anchor not a date", { schedule: { ...VALID.schedule, anchor: "yesterday-ish" } }],
    ["anchor missing", { schedule: { ...VALID.schedule, anchor: undefined } }],
    ["time spec empty", { schedule: { kind: "time", spec: "" } }],
    ["time spec blank", { schedule: { kind: "time", spec: "  \t" } }],
    ["time spec missing", { schedule: { kind: "time" } }],
  ];
  for (const [what, change] of cases) {
    const text = JSON.stringify({ ...VALID, ...change });
    assert.throws(() => parseJob(text), /not a valid tinybackup job/, what);
  }
});

Deno.test("parseJob rejects JSON that is not a job object", () => {
  for (const text of ["null", "[]", "42", '"job"', "{}", "true"]) {
    assert.throws(() => parseJob(text), /not a valid tinybackup job/, text);
  }
});

Deno.test("parseJob rejects text that is not JSON", () => {
  for (const text of ["", "{", "not json", JSON.stringify(VALID).slice(0, -1)]) {
    assert.throws(() => parseJob(text), SyntaxError, text);
  }
});

// describeSchedule

Deno.test("describeSchedule puts the schedule in words", () => {
  assert.equal(describeSchedule(newJob(settings(), NOW, ID).schedule), "every 6h");
  assert.equal(
    describeSchedule(
      newJob(settings({ every: { text: "1h30m", minutes: 90 } }), NOW, ID).schedule,
    ),
    "every 1h30m",
  );
  assert.equal(
    describeSchedule(
      newJob(settings({ every: { text: "1d", minutes: 1440 }, at: "02:00" }), NOW, ID).schedule,
    ),
    "every 1d at 02:00",
  );
  assert.equal(describeSchedule({ kind: "time", spec: "now + 1 hour" }), "at 'now + 1 hour'");
});

// sameJob

Deno.test("sameJob: same file, destination, name and schedule, whatever else differs", () => {
  const a = newJob(settings({ every: { text: "1d", minutes: 1440 }, at: "02:00" }), NOW, ID);
  const b = newJob(
    settings({
      every: { text: "1d", minutes: 1440 },
      at: "02:00",
      retention: keepLast(30),
      compression: "zstd",
      runs: 5,
      stopIfMissing: true,
      command: ["/usr/local/bin/tinybackup"],
    }),
    new Date("2026-08-01T12:00:00Z"),
    "ffffffff",
  );
  assert.equal(sameJob(a, b), true);
  assert.equal(sameJob(b, a), true);
  assert.equal(sameJob(a, successor(a, NOW)!), true);
});

Deno.test("sameJob: a different file, destination, name or schedule is another job", () => {
  const base = settings({ every: { text: "1d", minutes: 1440 }, at: "02:00" });
  const a = newJob(base, NOW, ID);
  const others: [string, Partial<JobSettings>][] = [
    ["file", { source: { kind: "file", path: "/home/ed/other.db" } }],
    ["kind", { source: { kind: "sqlite", path: "/home/ed/notes.db" } }],
    ["command", { source: { kind: "command", command: "cat /home/ed/notes.db", okExit: [] } }],
    ["dest", { dest: "/mnt/elsewhere" }],
    ["name", { name: "notes-copy.db" }],
    ["interval", { every: { text: "2d", minutes: 2880 } }],
    ["time of day", { at: "03:00" }],
    ["no time of day", { at: undefined }],
    ["time spec", { every: undefined, at: undefined, time: "02:00" }],
  ];
  for (const [what, change] of others) {
    assert.equal(sameJob(a, newJob({ ...base, ...change }, NOW, ID)), false, what);
  }
  const timeA = newJob(settings({ every: undefined, time: "02:00" }), NOW, ID);
  const timeB = newJob(settings({ every: undefined, time: "03:00" }), NOW, ID);
  assert.equal(sameJob(timeA, timeB), false);
});

// commandFiles

Deno.test("commandFiles of a compiled binary is the binary", () => {
  const job = newJob(settings({ command: ["/usr/local/bin/tinybackup"] }), NOW, ID);
  assert.deepEqual(commandFiles(job), ["/usr/local/bin/tinybackup"]);
});

Deno.test("commandFiles of a run from source is deno, its config and the main script", () => {
  const job = newJob(settings(), NOW, ID);
  assert.deepEqual(commandFiles(job), [
    "/usr/bin/deno",
    "/opt/tinybackup/deno.json",
    "/opt/tinybackup/main.ts",
  ]);
});

Deno.test("sameJob: the same interval written differently is the same job", () => {
  const day = newJob(settings({ every: { text: "1d", minutes: 1440 } }), NOW, ID);
  const hours = newJob(settings({ every: { text: "24h", minutes: 1440 } }), NOW, "89abcdef");
  assert.equal(sameJob(day, hours), true);
  const spaced = newJob(settings({ time: "now  +  1 hour" }), NOW, ID);
  const plainSpec = newJob(settings({ time: "now + 1 hour" }), NOW, ID);
  assert.equal(sameJob(spaced, plainSpec), true);
});

Deno.test("parseJob rejects an interval whose text does not match its minutes, or a bad --at", () => {
  const job = plain(
    newJob(settings({ every: { text: "1d", minutes: 1440 }, at: "02:00" }), NOW, ID),
  );
  assert.throws(() =>
    parseJob(JSON.stringify({ ...job, schedule: { ...job.schedule, every: "2d" } }))
  );
  assert.throws(() =>
    parseJob(JSON.stringify({ ...job, schedule: { ...job.schedule, at: "25:00" } }))
  );
  assert.throws(() =>
    parseJob(JSON.stringify({ ...job, schedule: { ...job.schedule, every: undefined } }))
  );
});
