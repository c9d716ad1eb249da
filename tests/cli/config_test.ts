/**
 * The config file end to end: validate, show and init; run to several
 * destinations (the same bytes in each, read back with gunzip and tar), one
 * destination failing alone; the per-backup lock; monitoring pings to a
 * server on 127.0.0.1 that records them (and one that never answers); and
 * on_failure.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { needs, programs } from "../_requires.ts";
import { commandLine, run, tempDir, tinybackup } from "./_cli.ts";

const withTools = await needs("cli/config_test.ts", programs("gunzip", "tar"));
const test = (name: string, fn: () => Promise<void>) => withTools.test(`config: ${name}`, fn);

/** A test folder with its own state and config folders, and a way to write the file. */
async function setUp() {
  const dir = await tempDir();
  const env = {
    XDG_STATE_HOME: `${dir.path}/state`,
    XDG_CONFIG_HOME: `${dir.path}/xdg`,
  };
  const file = `${dir.path}/config.toml`;
  return {
    dir: dir.path,
    file,
    env,
    cli: (args: string[]) => tinybackup(args, { env }),
    write: (text: string) => Deno.writeTextFile(file, text, { mode: 0o600 }),
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

async function namesIn(folder: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(folder)) {
    if (!entry.name.startsWith(".")) names.push(entry.name);
  }
  return names.sort();
}

test("validate: a syntax error names the file, line and column; exit 2, nothing on stdout", async () => {
  await using t = await setUp();
  await t.write('[backup.a]\nfile = "/x"\ndest = \n');
  const r = await t.cli(["config", "validate", "--config", t.file]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, new RegExp(`^tinybackup: error: ${t.file}:3:8: invalid value$`, "m"));
  assert.match(r.stderr, /^tinybackup: hint: the file is TOML \(https:\/\/toml\.io\)/m);
});

test("validate lists every problem at once, in the file's terms, and run refuses to start", async () => {
  await using t = await setUp();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "x");
  await t.write(`
[defaults]
dest = "b"

[backup.notes]
file = "notes.txt"
retention = { daily = 0, dayly = 3 }

[backup.twice]
file = "notes.txt"
folder = "."

[backup.late]
file = "notes.txt"
schedule = { at = "02:00" }
`);
  for (const args of [["config", "validate"], ["run"]]) {
    const r = await t.cli([...args, "--config", t.file]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("tinybackup: error: "));
    assert.deepEqual(errors.map((l) => l.slice(`tinybackup: error: ${t.file}: `.length)), [
      "backup.notes.retention.dayly: unknown key; did you mean daily?",
      "backup.notes: retention.daily must be a whole number, 1 or more (got '0')",
      "backup.twice: file and folder cannot be used together",
      "backup.late: schedule.at needs schedule.every or schedule.time",
    ]);
    assert.match(r.stderr, /hint: see 'tinybackup config --help'/);
    await assert.rejects(Deno.stat(`${t.dir}/b`), Deno.errors.NotFound, "nothing was written");
  }
});

test("a config file others can write, or none at the default place, is refused with a hint", async () => {
  await using t = await setUp();
  await t.write('[backup.a]\nfile = "/etc/hostname"\ndest = "b"\n');
  await Deno.chmod(t.file, 0o664);
  const writable = await t.cli(["run", "--config", t.file]);
  assert.equal(writable.code, 2);
  assert.match(writable.stderr, /can be written by its group \(mode 0664\).*hint: chmod go-w/s);
  const none = await t.cli(["run"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, new RegExp(`no config file at ${t.dir}/xdg/tinybackup/config.toml`));
  assert.match(none.stderr, /hint: write one with 'tinybackup config init'/);
});

test("init writes a commented example (0600) that validates, and never overwrites a file", async () => {
  await using t = await setUp();
  const path = `${t.dir}/xdg/tinybackup/config.toml`;
  const r = await t.cli(["config", "init"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${path}\n`);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const text = await Deno.readTextFile(path);
  assert.match(text, /^# tinybackup's config file/);
  const valid = await t.cli(["config", "validate"]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(valid.stderr, /is valid: 1 backup\(s\): notes/);
  await Deno.writeTextFile(path, "# mine\n");
  const again = await t.cli(["config", "init"]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists already; tinybackup never rewrites your config file/);
  assert.equal(await Deno.readTextFile(path), "# mine\n");
});

test("show prints each backup's settings with defaults and ${VAR} filled in, the ping secret masked", async () => {
  await using t = await setUp();
  await t.write(`
[defaults]
dest = ["\${BK_ROOT}/one", "two"]
compress = "zstd"
ping_url = "https://hc-ping.com/\${HC_UUID}"

[backup.notes]
file = "~/notes.txt"
retention = { last = 2, weekly = 4 }
schedule = { every = "1d", at = "02:00" }
`);
  const r = await tinybackup(["config", "show", "--config", t.file], {
    env: { ...t.env, BK_ROOT: "/srv/bk", HC_UUID: "5e6b-secret", HOME: "/home/ed" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes("5e6b-secret"), r.stdout);
  for (
    const line of [
      "[backup.notes]",
      'file = "/home/ed/notes.txt"',
      'name = "notes.txt"',
      `dest = [ "/srv/bk/one", "${t.dir}/two" ]`,
      'compress = "zstd"',
      'ping_url = "https://hc-ping.com/********"',
      "last = 2",
      "weekly = 4",
      'every = "1d"',
      'at = "02:00"',
    ]
  ) assert.ok(r.stdout.split("\n").includes(line), `${line} in:\n${r.stdout}`);
});

test("run: the source is read once and the same bytes are stored in each destination", async () => {
  await using t = await setUp();
  await Deno.mkdir(`${t.dir}/photos`);
  await Deno.writeTextFile(`${t.dir}/photos/a.txt`, "photo a\n");
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes v1\n");
  await t.write(`
[defaults]
dest = ["one", "two"]

[backup.notes]
file = "notes.txt"

[backup.photos]
folder = "photos"
`);
  const r = await t.cli(["run", "--config", t.file]);
  assert.equal(r.code, 0, r.stderr);
  const paths = r.stdout.trim().split("\n");
  assert.equal(paths.length, 4);
  assert.match(r.stderr, /notes: backed up to 2 destinations/);
  assert.match(r.stderr, /photos: backed up to 2 destinations/);
  for (const name of await namesIn(`${t.dir}/one`)) {
    assert.equal(await sha256(`${t.dir}/one/${name}`), await sha256(`${t.dir}/two/${name}`), name);
  }
  const notes = paths.find((p) => p.includes("/two/notes.txt."))!;
  assert.equal(new TextDecoder().decode(await run("gunzip", ["-c", notes])), "notes v1\n");
  const tar = paths.find((p) => p.includes("/two/photos.tar."))!;
  const listing = new TextDecoder().decode(await run("tar", ["-tzf", tar]));
  assert.match(listing, /a\.txt/);

  // Unchanged in both; a change makes a new backup in both; and `run NAME` runs that one only.
  const same = await t.cli(["run", "--config", t.file, "notes"]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stderr, /notes: unchanged in 2 destinations/);
  assert.doesNotMatch(same.stderr, /photos/);
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes v2\n");
  const changed = await t.cli(["run", "--config", t.file, "notes"]);
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal((await namesIn(`${t.dir}/two`)).filter((n) => n.startsWith("notes")).length, 2);
  const unknown = await t.cli(["run", "--config", t.file, "notes", "nope"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no backup named 'nope' in .*\n.*hint: its backups: notes, photos/);
});

test("run: one destination that fails fails the backup (exit 1) and names it; the others keep theirs", async () => {
  await using t = await setUp();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  // An S3 endpoint where nothing listens: the network is down for that destination only.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await t.write(`
[backup.notes]
file = "notes.txt"
dest = ["s3://tinybackup-test/notes", "good"]
`);
  const r = await tinybackup(["run", "--config", t.file], {
    env: {
      ...t.env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /notes: failed: s3:\/\/tinybackup-test\/notes: cannot reach the S3 endpoint .*the other destinations were backed up/,
  );
  assert.equal(r.stdout.trim().split("\n").length, 1);
  assert.equal((await namesIn(`${t.dir}/good`)).length, 1);
});

test("run: a destination that is bad input (a file where its folder should be) stops the backup before anything is written", async () => {
  await using t = await setUp();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  await Deno.writeTextFile(`${t.dir}/blocker`, "a file where a folder should be\n");
  await t.write(`
[backup.notes]
file = "notes.txt"
dest = ["good", "blocker/bk"]
`);
  const r = await t.cli(["run", "--config", t.file]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, new RegExp(`notes: failed: ${t.dir}/blocker/bk: destination not found`));
  await assert.rejects(Deno.stat(`${t.dir}/good`), Deno.errors.NotFound);
});

test("run: a destination that refuses the backup (its name is another source's) stops it before anything is written", async () => {
  await using t = await setUp();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  await Deno.writeTextFile(`${t.dir}/other.txt`, "another file\n");
  const other = await t.cli([
    "--file",
    `${t.dir}/other.txt`,
    "--name",
    "notes.txt",
    "--dest",
    `${t.dir}/two`,
  ]);
  assert.equal(other.code, 0, other.stderr);
  await t.write(`
[backup.notes]
file = "notes.txt"
dest = ["one", "two"]
`);
  const r = await t.cli(["run", "--config", t.file]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    new RegExp(
      `notes: failed: ${t.dir}/two: .*already holds backups named 'notes\\.txt' of another source`,
    ),
  );
  assert.match(r.stderr, /hint: pass --name/);
  await assert.rejects(
    Deno.stat(`${t.dir}/one`),
    Deno.errors.NotFound,
    "nothing was written in one",
  );
});

test("run: a destination added later gets the unchanged backup as a copy of this run's time", async () => {
  await using t = await setUp();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  await t.write('[backup.notes]\nfile = "notes.txt"\ndest = ["one"]\n');
  const made = await t.cli(["run", "--config", t.file]);
  assert.equal(made.code, 0, made.stderr);
  const [old] = await namesIn(`${t.dir}/one`);
  // Backup names have a resolution of a second.
  await new Promise((wake) => setTimeout(wake, 1100));
  await t.write('[backup.notes]\nfile = "notes.txt"\ndest = ["one", "two"]\n');
  const r = await t.cli(["run", "--config", t.file]);
  assert.equal(r.code, 0, r.stderr);
  const [copy] = await namesIn(`${t.dir}/two`);
  assert.deepEqual(await namesIn(`${t.dir}/one`), [old], "unchanged in one");
  assert.ok(copy > old, `the copy ${copy} is named by this run's time, after ${old}`);
  assert.equal(await sha256(`${t.dir}/two/${copy}`), await sha256(`${t.dir}/one/${old}`));
  const listed = await t.cli(["list", "--json", "--dest", `${t.dir}/two`]);
  const [entry] = JSON.parse(listed.stdout) as { time: string }[];
  assert.ok(Date.now() - Date.parse(entry.time) < 60_000, `listed at ${entry.time}`);
});

test("run --dry-run: prints the backup each destination would get, writes nothing; a plan that would fail prints nothing", async () => {
  await using t = await setUp();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  await Deno.writeTextFile(`${t.dir}/todo.txt`, "todo\n");
  await t.write(`
[defaults]
dest = ["one", "two"]

[backup.notes]
file = "notes.txt"
schedule = { every = "1d" }

[backup.todo]
file = "todo.txt"
`);
  const r = await t.cli(["run", "--dry-run", "--config", t.file]);
  assert.equal(r.code, 0, r.stderr);
  const paths = r.stdout.trim().split("\n");
  assert.deepEqual(
    paths.map((p) => p.replace(/\.\d{8}T\d{6}Z\.gz$/, "").replace(`${t.dir}/`, "")),
    ["one/notes.txt", "two/notes.txt", "one/todo.txt", "two/todo.txt"],
  );
  assert.match(r.stderr, /dry run: would back up/);
  assert.doesNotMatch(r.stderr, /schedule/, "run does not schedule");
  await assert.rejects(Deno.stat(`${t.dir}/one`), Deno.errors.NotFound);

  const other = await t.cli([
    "--file",
    `${t.dir}/todo.txt`,
    "--name",
    "notes.txt",
    "--dest",
    `${t.dir}/two`,
  ]);
  assert.equal(other.code, 0, other.stderr);
  const refused = await t.cli(["run", "--dry-run", "--config", t.file]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(refused.stdout, "");
  assert.doesNotMatch(refused.stderr, /would back up/);
  assert.match(refused.stderr, /already holds backups named 'notes\.txt' of another source/);
});

test("run: an overlapping run of a backup waits up to lock_wait, then says since when; a killed one blocks nothing", async () => {
  await using t = await setUp();
  await t.write(`
[backup.slow]
command = "sleep 30; echo done"
name = "slow.txt"
dest = "b"
lock_wait = 1
`);
  const [program, ...args] = commandLine(["run", "--config", t.file]);
  const first = new Deno.Command(program, { args, env: t.env, stdout: "null", stderr: "piped" })
    .spawn();
  // The first run holds the lock once its command runs.
  for (let i = 0; i < 200; i++) {
    const ps = new TextDecoder().decode(await run("ps", ["-eo", "args"]));
    if (ps.includes("sleep 30; echo done")) break;
    await new Promise((wake) => setTimeout(wake, 50));
  }
  const second = await t.cli(["run", "--config", t.file]);
  assert.equal(second.code, 1, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `another run of backup 'slow' of ${t.file} has been running since \\S+ \\(pid ${first.pid}\\); this run made no backup`,
    ),
  );
  assert.match(second.stderr, /^tinybackup: hint: let it finish, or raise lock_wait/m);
  first.kill("SIGKILL");
  await first.status;
  await first.stderr.cancel();
  await t.write(`
[backup.slow]
command = "echo done"
name = "slow.txt"
dest = "b"
lock_wait = 0
`);
  const third = await t.cli(["run", "--config", t.file]);
  assert.equal(third.code, 0, third.stderr);
});

/** A monitoring server on 127.0.0.1 that records each request, answering `status`. */
function pingServer(status = 200) {
  const requests: { method: string; path: string; body: string }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      requests.push({
        method: request.method,
        path: new URL(request.url).pathname,
        body: await request.text(),
      });
      return new Response("OK", { status });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/check-5e6b`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

test("ping_url: start and success pings around a good backup; start and /fail with the error around a failed one, then on_failure", async () => {
  await using t = await setUp();
  await using pings = pingServer();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  const config = (file: string) => `
[defaults]
dest = "b"
ping_url = "${pings.url}"
on_failure = ["sh", "-c", "printf '%s|%s' \\"$TINYBACKUP_BACKUP\\" \\"$TINYBACKUP_ERROR\\" > failed.txt; echo told >&2"]

[backup.notes]
file = "${file}"
`;
  await t.write(config("notes.txt"));
  const good = await t.cli(["run", "--config", t.file]);
  assert.equal(good.code, 0, good.stderr);
  assert.deepEqual(pings.requests.map((r) => `${r.method} ${r.path}`), [
    "POST /check-5e6b/start",
    "POST /check-5e6b",
  ]);
  await assert.rejects(Deno.stat(`${t.dir}/failed.txt`), Deno.errors.NotFound);

  pings.requests.length = 0;
  await t.write(config("gone.txt"));
  const bad = await tinybackup(["run", "--config", t.file], { env: t.env, cwd: t.dir });
  assert.equal(bad.code, 2, bad.stderr);
  assert.deepEqual(pings.requests.map((r) => `${r.method} ${r.path}`), [
    "POST /check-5e6b/start",
    "POST /check-5e6b/fail",
  ]);
  assert.match(pings.requests[1].body, /gone\.txt/);
  assert.match(bad.stderr, /^told$/m, "on_failure's output goes to stderr");
  assert.equal(bad.stdout, "");
  const told = await Deno.readTextFile(`${t.dir}/failed.txt`);
  assert.match(told, /^notes\|.*gone\.txt/);
});

test("ping_url: a server that never answers, or refuses, warns but never fails the backup", async () => {
  await using t = await setUp();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  // Takes connections and never answers.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of silent) held.push(connection);
  })();
  try {
    await t.write(`
[backup.notes]
file = "notes.txt"
dest = "b"
ping_url = "http://127.0.0.1:${silent.addr.port}/x"
ping_timeout = 1
`);
    const r = await t.cli(["run", "--config", t.file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").length, 1);
    assert.match(
      r.stderr,
      /warning: notes: the start ping to 127\.0\.0\.1:\d+ failed: no answer within 1 s/,
    );
    assert.match(r.stderr, /warning: notes: the success ping to 127\.0\.0\.1:\d+ failed/);
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const connection of held) connection.close();
  }

  await using refusing = pingServer(404);
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes 2\n");
  await t.write(`
[backup.notes]
file = "notes.txt"
dest = "b"
ping_url = "${refusing.url}"
`);
  const r = await t.cli(["run", "--config", t.file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /the start ping to 127\.0\.0\.1:\d+ failed: the server answered 404 Not Found/,
  );
  assert.equal(refusing.requests.length, 2, "a 404 is not tried again");
  assert.ok(!r.stderr.includes("check-5e6b"), "the URL's secret path is not printed");
});

test("ping_url_file: the URL is read from the file at run time; a line that is no URL warns without printing it", async () => {
  await using t = await setUp();
  await using pings = pingServer();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  await Deno.writeTextFile(`${t.dir}/ping`, `${pings.url}\n`, { mode: 0o600 });
  await t.write(`
[backup.notes]
file = "notes.txt"
dest = "b"
ping_url_file = "ping"
`);
  const good = await t.cli(["run", "--config", t.file]);
  assert.equal(good.code, 0, good.stderr);
  assert.deepEqual(pings.requests.map((r) => r.path), ["/check-5e6b/start", "/check-5e6b"]);
  assert.ok(!good.stderr.includes("check-5e6b"), good.stderr);

  await Deno.writeTextFile(`${t.dir}/ping`, "hc-ping.com/s3cr3t-uuid\n");
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes 2\n");
  const bad = await t.cli(["run", "--config", t.file]);
  assert.equal(bad.code, 0, bad.stderr);
  assert.match(
    bad.stderr,
    /warning: notes: the first line of .*\/ping is not an http:\/\/ or https:\/\/ URL, so no start ping was sent/,
  );
  assert.ok(!bad.stderr.includes("s3cr3t"), bad.stderr);
  assert.equal(pings.requests.length, 2, "no ping went anywhere");
});

test("ping_url_command: the URL is the first line the command prints at run time; a failing command warns", async () => {
  await using t = await setUp();
  await using pings = pingServer();
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes\n");
  await Deno.writeTextFile(`${t.dir}/ping`, `${pings.url}\n`, { mode: 0o600 });
  await t.write(`
[backup.notes]
file = "notes.txt"
dest = "b"
ping_url_command = "cat '${t.dir}/ping'"
`);
  const shown = await t.cli(["config", "show", "--config", t.file]);
  assert.match(shown.stdout, /ping_url_command = "cat '.*\/ping'"/);
  assert.ok(!shown.stdout.includes("check-5e6b"), "config show never runs the command");
  const good = await t.cli(["run", "--config", t.file]);
  assert.equal(good.code, 0, good.stderr);
  assert.deepEqual(pings.requests.map((r) => r.path), ["/check-5e6b/start", "/check-5e6b"]);
  assert.ok(!good.stderr.includes("check-5e6b"), good.stderr);

  await Deno.remove(`${t.dir}/ping`);
  await Deno.writeTextFile(`${t.dir}/notes.txt`, "notes 2\n");
  const bad = await t.cli(["run", "--config", t.file]);
  assert.equal(bad.code, 0, bad.stderr);
  assert.match(
    bad.stderr,
    /warning: notes: the ping URL command failed \(exit 1\), so no start ping was sent/,
  );
  assert.equal(pings.requests.length, 2, "no ping went anywhere");
});
