/**
 * `tinybackup --command CMD --name N --dest D`, end to end: a command's
 * output becomes a backup only when the command succeeds, read back with
 * gunzip and zstd; a failed, killed or cut-short producer never leaves a
 * "good" backup, and rotation waits for success.
 */
import assert from "node:assert/strict";
import { emptyQueue, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import {
  commandLine,
  run,
  sameBytes,
  tempDir,
  textBytes,
  tinybackup,
  visibleFiles,
} from "./_cli.ts";

const withGunzip = await needs("cli/command_source_test.ts", programs("gunzip"));
const withZstd = await needs("cli/command_source_test.ts: a 60 MiB producer", programs("zstd"));
const withAt = await needs(
  "cli/command_source_test.ts: a scheduled command",
  programs("at", "atq", "atrm", "gunzip"),
);

const test = (name: string, fn: () => Promise<void>, gate = withGunzip) =>
  gate.test(`command: ${name}`, fn);

/** `tinybackup --command CMD --name dump.sql --dest DIR/b ...more`. */
function backUp(dir: string, command: string, ...more: string[]) {
  return tinybackup(["--command", command, "--name", "dump.sql", "--dest", `${dir}/b`, ...more]);
}

async function listJson(dir: string): Promise<Record<string, unknown>[]> {
  const r = await tinybackup(["list", "--dest", `${dir}/b`, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("the command's stdout is the backup; list records the command", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/data.txt`, textBytes(5000));
  const r = await backUp(dir.path, `cat '${dir.path}/data.txt'`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const path = r.stdout.trimEnd();
  assert.match(path, /\/b\/dump\.sql\.\d{8}T\d{6}Z\.gz$/);
  assert.ok(sameBytes(await run("gunzip", ["-c", path]), textBytes(5000)));
  const [backup] = await listJson(dir.path);
  assert.equal(backup.sourceKind, "command");
  assert.equal(backup.command, `cat '${dir.path}/data.txt'`);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o400, "a command's output is private");
});

test("a command that fails after printing makes no backup, rotates nothing, and quotes its stderr", async () => {
  await using dir = await tempDir();
  const good = await backUp(dir.path, "printf 'version 1\\n'", "--keep", "1");
  assert.equal(good.code, 0, good.stderr);
  const r = await backUp(
    dir.path,
    "printf 'half a dump'; echo 'pg_dump: error: connection lost' >&2; exit 3",
    "--keep",
    "1",
  );
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /error: command '.*' failed with exit code 3; no backup was made/);
  assert.match(r.stderr, /its stderr ended: pg_dump: error: connection lost/);
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), [good.stdout.trimEnd().split("/").pop()]);
  assert.equal(
    new TextDecoder().decode(await run("gunzip", ["-c", good.stdout.trimEnd()])),
    "version 1\n",
  );
  assert.deepEqual(
    [...Deno.readDirSync(`${dir.path}/b/.tinybackup/tmp`)],
    [],
    "nothing staged is left",
  );
});

test("a command killed by a signal makes no backup, and the error says which signal", async () => {
  await using dir = await tempDir();
  const r = await backUp(dir.path, "printf 'some output'; kill -KILL $$");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /command '.*' was killed by SIGKILL; no backup was made/);
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), []);
});

withZstd.test("command: a producer that dies after 60 MiB never becomes a good backup", async () => {
  await using dir = await tempDir();
  const first = await backUp(dir.path, "printf 'the last good dump\\n'", "--keep", "1");
  assert.equal(first.code, 0, first.stderr);
  for (const compression of ["zstd", "none"]) {
    const r = await backUp(
      dir.path,
      "head -c 62914560 /dev/urandom; kill -TERM $$",
      "--keep",
      "1",
      "--compress",
      compression,
    );
    assert.equal(r.code, 1, compression);
    assert.match(r.stderr, /was killed by SIGTERM; no backup was made/, compression);
  }
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), [first.stdout.trimEnd().split("/").pop()]);
});

test("--ok-exit accepts the codes given, and only those", async () => {
  await using dir = await tempDir();
  const ok = await backUp(dir.path, "printf 'partial but fine'; exit 24", "--ok-exit", "1,24");
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    new TextDecoder().decode(await run("gunzip", ["-c", ok.stdout.trimEnd()])),
    "partial but fine",
  );
  const other = await backUp(dir.path, "printf 'x'; exit 2", "--ok-exit", "1,24");
  assert.equal(other.code, 1);
  assert.match(other.stderr, /failed with exit code 2/);
});

test("the command's stdin is closed: what is piped into tinybackup never reaches it", async () => {
  await using dir = await tempDir();
  const r = await tinybackup(
    ["--command", "cat", "--name", "dump.sql", "--dest", `${dir.path}/b`],
    { stdin: "piped secret" },
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /command 'cat' printed nothing; no backup was made/);
  assert.match(r.stderr, /hint: pass --allow-empty/);
  const allowed = await tinybackup(
    ["--command", "cat", "--name", "dump.sql", "--dest", `${dir.path}/b`, "--allow-empty"],
    { stdin: "piped secret" },
  );
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal((await run("gunzip", ["-c", allowed.stdout.trimEnd()])).length, 0);
});

test("the same output again is unchanged; a successful command's stderr is passed on as a warning", async () => {
  await using dir = await tempDir();
  const first = await backUp(dir.path, "printf 'same'");
  const second = await backUp(dir.path, "printf 'same'; echo 'note: 3 tables skipped' >&2");
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  assert.match(second.stderr, /unchanged since the backup of/);
  assert.match(second.stderr, /warning: command '.*'; its stderr ended: note: 3 tables skipped/);
});

test("a run that ends early stops the command and everything it started, even what ignores SIGTERM", async () => {
  await using dir = await tempDir();
  const pidFile = `${dir.path}/pid`;
  const child = new Deno.Command(commandLine([])[0], {
    args: [
      ...commandLine([]).slice(1),
      "--command",
      `(trap '' TERM; exec sleep 600) & echo $! > '${pidFile}'; printf started; wait`,
      "--name",
      "dump.sql",
      "--dest",
      `${dir.path}/b`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let pid = 0;
  for (let i = 0; i < 200 && !pid; i++) {
    await new Promise((wake) => setTimeout(wake, 50));
    pid = Number(await Deno.readTextFile(pidFile).catch(() => "0"));
  }
  assert.ok(pid > 0, "the command started its background process");
  await new Promise((wake) => setTimeout(wake, 200));
  child.kill("SIGTERM");
  const { code, stderr } = await child.output();
  assert.equal(code, 143, new TextDecoder().decode(stderr));
  // Gone, or a zombie no one has reaped yet (in a container whose PID 1 does not): either way, ended.
  const running = async () => {
    const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "State:\tX");
    return !/^State:\s+[ZX]/m.test(status);
  };
  let alive = await running();
  for (let i = 0; i < 100 && alive; i++) {
    await new Promise((wake) => setTimeout(wake, 50));
    alive = await running();
  }
  assert.equal(alive, false, "the command's background process was stopped too");
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), []);
});

test("bad input: a program the shell cannot find, or a command it cannot parse, is exit 2 and writes nothing", async () => {
  await using dir = await tempDir();
  const cases: [string, RegExp][] = [
    ["pg_dumpp -Fc app", /starts a program the shell cannot find: pg_dumpp/],
    ["echo (", /the shell cannot parse the command 'echo \('/],
  ];
  for (const [command, message] of cases) {
    const r = await backUp(dir.path, command);
    assert.equal(r.code, 2, command);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trimEnd().split("\n").length, 2, "one error line and a hint");
    assert.equal(await Deno.stat(`${dir.path}/b`).catch(() => undefined), undefined);
  }
});

withAt.test("command: a scheduled command job is queued with its command and runs as atd runs it", async () => {
  const QUEUE = "w";
  await emptyQueue(QUEUE);
  await using dir = await tempDir();
  const env = { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
  try {
    const command = `printf 'dump of it'"'"'s data'`;
    const r = await tinybackup(
      ["--command", command, "--name", "dump.sql", "--dest", `${dir.path}/b`, "--every", "1d"],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    const jobs = JSON.parse((await tinybackup(["jobs", "--json"], { env })).stdout);
    assert.equal(jobs.length, 1);
    assert.deepEqual(jobs[0].source, { kind: "command", command, okExit: [] });
    assert.equal(jobs[0].file, null);
    const listed = await tinybackup(["jobs"], { env });
    assert.match(listed.stdout, /command 'printf .*' -> /);
    const [atJob] = await queued(QUEUE);
    const ran = await runScript(await takeJob(atJob));
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stderr, "");
    const log = JSON.parse((await tinybackup(["log", "--json"], { env })).stdout);
    assert.equal(log[0].result, "unchanged");
  } finally {
    await emptyQueue(QUEUE);
  }
});

test("a command that leaves a process holding its output open fails after a grace period, never hangs", async () => {
  await using dir = await tempDir();
  const started = performance.now();
  const r = await backUp(dir.path, "sleep 598 & echo hi");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /ended, but left a process holding its output open; no backup was made/);
  assert.ok(performance.now() - started < 30_000, "it did not wait for the background process");
  const left = new TextDecoder().decode(
    (await new Deno.Command("pgrep", { args: ["-f", "sleep 598"], stdout: "piped" }).output())
      .stdout,
  );
  assert.equal(left, "", "the background process was stopped");
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), []);
});
