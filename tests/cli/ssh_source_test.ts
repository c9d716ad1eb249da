/**
 * `tinybackup --ssh HOST ...`, end to end against a real sshd started for
 * the tests on 127.0.0.1 (tests/_sshd.ts): a remote folder extracted with
 * GNU tar and bsdtar and compared, excludes and --split as for a local
 * folder, a file that changes during every remote read, PostgreSQL and
 * MariaDB dumps made on the host and restored, a command there, and ssh's
 * refusals (an unknown or changed host key, a refused login, no server).
 */
import assert from "node:assert/strict";
import { emptyQueue, jobScript, queued, runScript, takeJob } from "../_at_queue.ts";
import { MARIADB, startMariadb } from "../_mariadb.ts";
import { POSTGRES, startPostgres } from "../_postgres.ts";
import { needs, programs } from "../_requires.ts";
import { SSH_ALIAS, SSHD_REQUIREMENT, startSshd } from "../_sshd.ts";
import { readPosition } from "../faults/_races.ts";
import { commandLine, run, tempDir, tinybackup, visibleFiles } from "./_cli.ts";
import { describeTree, makeFixture } from "./_folder_fixture.ts";
import { check, makeDatabase, startWriter } from "./_sqlite_database.ts";

const TESTS = "cli/ssh_source_test.ts";
const withSsh = await needs(TESTS, SSHD_REQUIREMENT, programs("tar", "bsdtar", "gunzip"));
const withSshAndPostgres = await needs(`${TESTS}: PostgreSQL`, SSHD_REQUIREMENT, POSTGRES);
const withSshAndMariadb = await needs(`${TESTS}: MariaDB`, SSHD_REQUIREMENT, MARIADB);
const withSshAndSqlite = await needs(
  `${TESTS}: SQLite`,
  SSHD_REQUIREMENT,
  programs("sqlite3", "gunzip"),
);
const withSshAndAt = await needs(
  `${TESTS}: a scheduled job`,
  SSHD_REQUIREMENT,
  programs("at", "atq", "atrm", "gunzip", "tar"),
);
const test = (name: string, fn: () => Promise<void>, gate = withSsh) =>
  gate.test(`ssh: ${name}`, fn);

/** The names a gzip'd tar holds, in its order. */
async function tarNames(path: string): Promise<string[]> {
  const listed = await run("sh", ["-c", 'gunzip -c "$1" | tar -tf -', "sh", path]);
  return new TextDecoder().decode(listed).trim().split("\n");
}

test("a folder on the host: GNU tar and bsdtar extract it as it is; the same tree again is unchanged", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const source = `${dir.path}/project`;
  await makeFixture(source);
  const expected = await describeTree(source);
  const remote = ["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, "--folder", source];
  const r = await tinybackup([...remote, "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const path = r.stdout.trimEnd();
  assert.match(path, /\/b\/project\.tar\.\d{8}T\d{6}Z\.gz$/);
  await Deno.writeFile(`${dir.path}/project.tar`, await run("gunzip", ["-c", path]));
  for (const tool of ["tar", "bsdtar"]) {
    const into = `${dir.path}/${tool}`;
    await Deno.mkdir(into);
    await run(tool, ["-xpf", `${dir.path}/project.tar`, "-C", into]);
    assert.deepEqual(await describeTree(`${into}/project`), expected, `${tool} extracts it`);
  }
  const local = await tinybackup(["--folder", source, "--dest", `${dir.path}/local`]);
  assert.deepEqual(
    await tarNames(path),
    await tarNames(local.stdout.trimEnd()),
    "the same entries in the same order as a local folder's backup",
  );

  const again = await tinybackup([...remote, "--dest", `${dir.path}/b`]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, r.stdout);
  assert.match(again.stderr, /unchanged since/);
  const listed = await tinybackup(["list", "--dest", `${dir.path}/b`, "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  const [backup] = JSON.parse(listed.stdout);
  assert.equal(backup.host, SSH_ALIAS, "metadata says where it was");
  assert.equal(backup.source, source);
});

test("--exclude and --split mean on the host what they mean here", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const source = `${dir.path}/photos`;
  for (const folder of ["2024/cache", "2025", "node_modules/x"]) {
    await Deno.mkdir(`${source}/${folder}`, { recursive: true });
  }
  await Deno.writeTextFile(`${source}/2024/a.jpg`, "a");
  await Deno.writeTextFile(`${source}/2024/cache/thumb`, "t");
  await Deno.writeTextFile(`${source}/2025/b.jpg`, "b");
  await Deno.writeTextFile(`${source}/2025/debug.log`, "log");
  await Deno.writeTextFile(`${source}/node_modules/x/index.js`, "js");
  await Deno.writeTextFile(`${source}/index.txt`, "index");
  const options = [
    ...["--folder", source, "--split", "--exclude", "*.log", "--exclude", "cache/"],
    ...["--exclude", "node_modules", "--json"],
  ];
  const remote = await tinybackup([
    ...["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, ...options, "--dest", `${dir.path}/r`],
  ]);
  const local = await tinybackup([...options, "--dest", `${dir.path}/l`]);
  assert.equal(remote.code, 0, remote.stderr);
  const parts = (r: typeof remote) =>
    JSON.parse(r.stdout).backups as { name: string; path: string }[];
  assert.deepEqual(parts(remote).map((b) => b.name), [
    "photos.2024.tar",
    "photos.2025.tar",
    "photos.tar",
  ]);
  for (const [i, part] of parts(remote).entries()) {
    assert.deepEqual(await tarNames(part.path), await tarNames(parts(local)[i].path), part.name);
  }
  assert.deepEqual(await tarNames(parts(remote)[0].path), [
    "photos/",
    "photos/2024/",
    "photos/2024/a.jpg",
  ]);
});

/** The first process found reading `path` (on the host, which here is this machine). */
async function readerOf(path: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { stdout } = await new Deno.Command("sh", {
      args: ["-c", 'find /proc/[0-9]*/fd -lname "$1" 2>/dev/null | head -n 1', "sh", path],
      stdout: "piped",
    }).output();
    const pid = /^\/proc\/(\d+)\//.exec(new TextDecoder().decode(stdout))?.[1];
    if (pid) return Number(pid);
    await new Promise((wake) => setTimeout(wake, 5));
  }
  throw new Error(`nothing opened ${path}`);
}

test("a file that changes during every read on the host fails the run, naming it; --allow-changing keeps it", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  // A name tar's messages would escape but for --quoting-style=literal: still recognised.
  const source = `${dir.path}/da:ta é`;
  await Deno.mkdir(source);
  await Deno.writeTextFile(`${source}/calm.txt`, "calm");
  const churn = `${source}/churn.log`;
  // Random and gzip'd here: tar on the host can run only a few MiB ahead of the compression.
  const random = new Uint8Array(64 * 1024 * 1024);
  for (let at = 0; at < random.length; at += 65536) {
    crypto.getRandomValues(random.subarray(at, at + 65536));
  }
  await Deno.writeFile(churn, random);
  const changingEveryRead = async (more: string[]) => {
    const [program, ...args] = commandLine([
      ...["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, "--folder", source],
      ...["--dest", `${dir.path}/b`, ...more],
    ]);
    const child = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).spawn();
    for (let read = 0; read < 4; read++) {
      const tar = await readerOf(churn);
      Deno.kill(tar, "SIGSTOP");
      const at = await readPosition(tar, churn);
      assert.ok(at !== undefined && at < random.length, `read ${read + 1} stopped mid-read`);
      await Deno.writeTextFile(churn, `appended during read ${read + 1}\n`, { append: true });
      Deno.kill(tar, "SIGCONT");
      while (await readPosition(tar, churn) !== undefined) {
        await new Promise((wake) => setTimeout(wake, 5)); // this read is over
      }
    }
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder();
    return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
  };
  const failed = await changingEveryRead([]);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(
    failed.stderr,
    /the folder .*\/da:ta é on tbtest kept changing while it was read \(4 tries: churn\.log\); no backup was made/,
  );
  assert.deepEqual(await visibleFiles(`${dir.path}/b`), []);
  const kept = await changingEveryRead(["--allow-changing"]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stderr, /warning: changed while read: churn\.log/);
  assert.deepEqual(await tarNames(kept.stdout.trimEnd()), [
    "da:ta é/",
    "da:ta é/calm.txt",
    "da:ta é/churn.log",
  ]);
});

test("a command runs on the host: its output is the backup, its failure fails the run", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const remote = ["--ssh", `127.0.0.1:${sshd.port}`, "--ssh-config", sshd.config];
  const ok = await tinybackup([
    ...remote,
    ...["--command", "printf '%s\\n' \"$SSH_CONNECTION\" | cut -d' ' -f3", "--name", "where"],
    ...["--dest", `${dir.path}/b`],
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    new TextDecoder().decode(await run("gunzip", ["-c", ok.stdout.trimEnd()])),
    "127.0.0.1\n",
    "it ran in an ssh session",
  );
  const failed = await tinybackup([
    ...remote,
    ...[
      "--command",
      "echo partial; echo broken >&2; exit 3",
      "--name",
      "x",
      "--dest",
      `${dir.path}/c`,
    ],
  ]);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /command '.*' on 127\.0\.0\.1:\d+ failed with exit code 3/);
  assert.match(failed.stderr, /its stderr ended: broken/);
  assert.deepEqual(await visibleFiles(`${dir.path}/c`), []);
  // The connection drops mid-run: ssh's exit 255 is a lost connection, never a backup.
  const lost = await tinybackup([
    ...remote,
    ...[
      "--command",
      "echo partial; kill -9 $PPID; sleep 5",
      "--name",
      "x",
      "--dest",
      `${dir.path}/c`,
    ],
  ]);
  assert.equal(lost.code, 1, lost.stderr);
  assert.match(
    lost.stderr,
    /error: command '.*' on 127\.0\.0\.1:\d+: ssh to .* failed \(ssh said: .*closed/,
  );
  assert.match(lost.stderr, /hint: the connection was lost/);
  assert.deepEqual(await visibleFiles(`${dir.path}/c`), []);
});

test("an unknown or changed host key, a refused login, no server: exit 2 with a hint, nothing written", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const goodHosts = await Deno.readTextFile(sshd.knownHosts);
  const folder = ["--folder", dir.path, "--dest", `${dir.path}/b`];
  const cases: [string, () => Promise<void>, string[], RegExp, RegExp][] = [
    [
      "unknown host key",
      () => Deno.writeTextFile(sshd.knownHosts, ""),
      ["--ssh", SSH_ALIAS, "--ssh-config", sshd.config],
      /its host key is unknown or has changed/,
      /never accepts an unknown or changed key/,
    ],
    [
      "changed host key",
      async () => {
        const other = (await Deno.readTextFile(`${sshd.strangerKey}.pub`)).split(" ")
          .slice(0, 2).join(" ");
        await Deno.writeTextFile(sshd.knownHosts, `[127.0.0.1]:${sshd.port} ${other}\n`);
      },
      ["--ssh", SSH_ALIAS, "--ssh-config", sshd.config],
      /its host key is unknown or has changed/,
      /compare the fingerprint/,
    ],
    [
      "refused login",
      async () => {
        await Deno.writeTextFile(sshd.knownHosts, goodHosts);
        const config = await Deno.readTextFile(sshd.config);
        await Deno.writeTextFile(
          `${dir.path}/stranger_config`,
          config.replace(/IdentityFile .*/, `IdentityFile ${sshd.strangerKey}`),
        );
      },
      ["--ssh", SSH_ALIAS, "--ssh-config", `${dir.path}/stranger_config`],
      /it refused the login/,
      /authorized_keys/,
    ],
    [
      "no server",
      async () => {},
      ["--ssh", "127.0.0.1:1", "--ssh-config", sshd.config],
      /it cannot be reached .*Connection refused/,
      /the port and the network/,
    ],
  ];
  for (const [what, prepare, ssh, error, hint] of cases) {
    await prepare();
    const r = await tinybackup([...ssh, ...folder]);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, `${what}: one error and a hint: ${r.stderr}`);
    assert.match(lines[0], /^tinybackup: error: cannot use .* over ssh: /);
    assert.match(lines[0], error, what);
    assert.match(lines[1], /^tinybackup: hint: /);
    assert.match(lines[1], hint, what);
    assert.deepEqual(await visibleFiles(`${dir.path}/b`).catch(() => []), [], what);
  }
  const missing = await tinybackup([
    ...["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, "--folder", `${dir.path}/nope`],
    ...["--dest", `${dir.path}/b`],
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /error: folder not found on tbtest: .*\/nope/);
});

test("a host whose tar is not GNU tar is refused for a folder, saying what to install", async () => {
  await using dir = await tempDir();
  // The host's PATH finds bsdtar as tar first: it cannot say which files changed while read.
  const bin = `${dir.path}/bin`;
  await Deno.mkdir(bin);
  const bsdtar = new TextDecoder().decode(await run("sh", ["-c", "command -v bsdtar"])).trim();
  await Deno.symlink(bsdtar, `${bin}/tar`);
  await using sshd = await startSshd({ PATH: `${bin}:/usr/bin:/bin` });
  await Deno.mkdir(`${dir.path}/www`);
  const r = await tinybackup([
    ...["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, "--folder", `${dir.path}/www`],
    ...["--dest", `${dir.path}/b`],
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /error: backing up a folder over ssh needs GNU tar and GNU find on tbtest, which has no GNU tar/,
  );
  assert.match(r.stderr, /hint: install them there \(Debian: apt-get install tar findutils/);
  assert.deepEqual(await visibleFiles(`${dir.path}/b`).catch(() => []), []);
});

withSshAndSqlite.test("ssh: a live WAL database on the host: a consistent snapshot made there, unchanged again; bad input is exit 2", async () => {
  await using dir = await tempDir();
  // The host's temporary files go here, to see that the snapshots made there are removed.
  const hostTmp = `${dir.path}/host-tmp`;
  await Deno.mkdir(hostTmp);
  await using sshd = await startSshd({ TMPDIR: hostTmp });
  const database = `${dir.path}/app.db`;
  makeDatabase(database, "wal");
  const remote = ["--ssh", SSH_ALIAS, "--ssh-config", sshd.config];
  const writer = await startWriter(database);
  let r;
  try {
    r = await tinybackup([...remote, "--sqlite", database, "--dest", `${dir.path}/b`]);
  } finally {
    assert.equal(await writer.stop(), "", "the writer never failed");
  }
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\/b\/app\.db\.\d{8}T\d{6}Z\.gz\n$/);
  await Deno.writeFile(`${dir.path}/restored.db`, await run("gunzip", ["-c", r.stdout.trimEnd()]));
  const restored = await check(`${dir.path}/restored.db`);
  assert.equal(restored.integrity, "ok");
  assert.ok(restored.a >= 20_000, `${restored.a} rows`);
  assert.equal(restored.a, restored.b, "both tables of one moment");
  assert.equal(restored.differing, 0);
  // Once the writer has stopped, a snapshot of the same data is the same bytes.
  const quiet = await tinybackup([...remote, "--sqlite", database, "--dest", `${dir.path}/b`]);
  const again = await tinybackup([...remote, "--sqlite", database, "--dest", `${dir.path}/b`]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /unchanged since/);
  assert.equal(again.stdout, quiet.stdout);
  assert.deepEqual([...Deno.readDirSync(hostTmp)], [], "no snapshot left on the host");

  await Deno.writeTextFile(`${dir.path}/not.db`, "plain text, not a database");
  for (
    const [path, error] of [
      [`${dir.path}/nope.db`, /error: file not found on tbtest: .*\/nope\.db/],
      [`${dir.path}/not.db`, /error: not a SQLite database: .*\/not\.db on tbtest/],
      [dir.path, /error: not a file on tbtest: /],
    ] as const
  ) {
    const bad = await tinybackup([...remote, "--sqlite", path, "--dest", `${dir.path}/c`]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, error);
    assert.deepEqual(await visibleFiles(`${dir.path}/c`).catch(() => []), []);
  }
});

withSshAndPostgres.test("ssh: PostgreSQL on the host: all databases and the roles, dumped there, restored with pg_restore", async () => {
  await using sshd = await startSshd();
  await using pg = await startPostgres();
  await using dir = await tempDir();
  await pg.sql("postgres", "CREATE DATABASE app");
  await pg.sql(
    "app",
    "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 1000) i",
  );
  const r = await tinybackup(
    [
      ...["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, "--postgres", "all", "--name", "pg"],
      ...["--dest", `${dir.path}/b`, "--json"],
    ],
    { env: pg.env }, // where the server is, as seen from the host: set there, never here
  );
  assert.equal(r.code, 0, r.stderr);
  const { backups } = JSON.parse(r.stdout) as { backups: { name: string; path: string }[] };
  assert.deepEqual(backups.map((b) => b.name), ["pg.app", "pg.postgres", "pg.globals"]);
  const dump = `${dir.path}/app.dump`;
  const restored = await tinybackup(["restore", backups[0].path, "--to", dump]);
  assert.equal(restored.code, 0, restored.stderr);
  const at = ["-h", pg.env.PGHOST, "-p", pg.env.PGPORT, "-U", "postgres"];
  await run("createdb", [...at, "copy"]);
  await run("pg_restore", [...at, "-d", "copy", "--exit-on-error", dump]);
  assert.equal(
    await pg.sql("copy", "SELECT count(*) || ' ' || md5(string_agg(v, ',' ORDER BY id)) FROM t"),
    await pg.sql("app", "SELECT count(*) || ' ' || md5(string_agg(v, ',' ORDER BY id)) FROM t"),
  );
  const wrong = await tinybackup(
    [
      "--ssh",
      SSH_ALIAS,
      "--ssh-config",
      sshd.config,
      "--postgres",
      "nope",
      "--dest",
      `${dir.path}/c`,
    ],
    { env: pg.env },
  );
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /there is no database 'nope' on 127\.0\.0\.1:\d+ on tbtest/);
});

withSshAndMariadb.test("ssh: MariaDB on the host: a database dumped there restores with mariadb", async () => {
  await using my = await startMariadb();
  await using dir = await tempDir();
  // The host's user finds the server as the clients' option files say: here, MYSQL_HOME/my.cnf.
  await Deno.mkdir(`${dir.path}/mysql-home`);
  await Deno.copyFile(`${my.home}/.my.cnf`, `${dir.path}/mysql-home/my.cnf`);
  await using sshd = await startSshd({ MYSQL_HOME: `${dir.path}/mysql-home` });
  await my.sql(
    "CREATE DATABASE shop; USE shop; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40));" +
      " INSERT INTO t SELECT seq, md5(seq) FROM seq_1_to_1000",
  );
  const r = await tinybackup(
    ["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, "--mysql", "shop", "--dest", `${dir.path}/b`],
  );
  assert.equal(r.code, 0, r.stderr);
  await my.sql("CREATE DATABASE copy");
  await run("sh", [
    "-c",
    'gunzip -c "$1" | HOME="$2" mariadb copy',
    "sh",
    r.stdout.trimEnd(),
    my.home,
  ]);
  const digest = "SELECT count(*), md5(group_concat(v ORDER BY id)) FROM ";
  assert.equal(await my.sql(`${digest} copy.t`), await my.sql(`${digest} shop.t`));
});

withSshAndAt.test("ssh: a scheduled job keeps the host and runs there as atd runs it; jobs and doctor check the host", async () => {
  const QUEUE = "s";
  await emptyQueue(QUEUE);
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const source = `${dir.path}/www`;
  await Deno.mkdir(source);
  await Deno.writeTextFile(`${source}/index.html`, "<p>hi</p>");
  const env = { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
  try {
    const r = await tinybackup([
      ...["--ssh", SSH_ALIAS, "--ssh-config", sshd.config, "--folder", source],
      ...["--dest", `${dir.path}/b`, "--every", "1d", "--schedule-only"],
    ], { env });
    assert.equal(r.code, 0, r.stderr);
    const jobs = await tinybackup(["jobs"], { env });
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.match(jobs.stdout, new RegExp(`${source}/ on ${SSH_ALIAS}`));
    assert.doesNotMatch(jobs.stdout + jobs.stderr, /problem|gone|not installed/);
    const [atJob] = await queued(QUEUE);
    const script = new TextDecoder().decode(await jobScript(atJob));
    assert.match(script, /"ssh":\{"destination":"tbtest","config":"[^"]+\/config"\}/);
    const ran = await runScript(await takeJob(atJob));
    assert.equal(ran.code, 0, ran.stderr);
    const log = JSON.parse((await tinybackup(["log", "--json"], { env })).stdout);
    assert.equal(log[0].result, "ok", log[0].message);
    assert.deepEqual(await tarNames(log[0].path), ["www/", "www/index.html"]);

    // The folder goes: jobs says so before the next run fails.
    await Deno.rename(source, `${source}.moved`);
    const gone = await tinybackup(["jobs"], { env });
    assert.match(gone.stdout, /problem: folder not found on tbtest: /);
    await Deno.rename(`${source}.moved`, source);

    // The host's key changes: doctor says so before the next run fails.
    await Deno.writeTextFile(sshd.knownHosts, "");
    const doctor = await tinybackup(["doctor"], { env });
    assert.match(doctor.stdout + doctor.stderr, /its host key is unknown or has changed/);
  } finally {
    await emptyQueue(QUEUE);
  }
});
