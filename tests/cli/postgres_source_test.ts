/**
 * `tinybackup --postgres DB|all --dest D`, end to end against a real server
 * started for the tests (tests/_postgres.ts): dumps made while a writer
 * commits, restored with pg_restore and compared; parts, credentials, bad
 * input, and a scheduled job.
 */
import assert from "node:assert/strict";
import { emptyQueue, jobScript, queued, runScript, takeJob } from "../_at_queue.ts";
import { POSTGRES, SECRET, startPostgres } from "../_postgres.ts";
import { needs, programs } from "../_requires.ts";
import { run, tempDir, tinybackup, visibleFiles } from "./_cli.ts";

const withPostgres = await needs("cli/postgres_source_test.ts", POSTGRES, programs("gunzip"));
const withPostgresAndAt = await needs(
  "cli/postgres_source_test.ts: a scheduled dump",
  POSTGRES,
  programs("at", "atq", "atrm"),
);
const test = (name: string, fn: () => Promise<void>, gate = withPostgres) =>
  gate.test(`postgres: ${name}`, fn);

/** Tables a and b, filled in the same transactions, and a procedure that goes on doing so. */
const SCHEMA = `
  CREATE TABLE a (id bigint PRIMARY KEY, v text NOT NULL);
  CREATE TABLE b (id bigint PRIMARY KEY, v text NOT NULL);
  INSERT INTO a SELECT i, md5(i::text) FROM generate_series(1, 50000) i;
  INSERT INTO b SELECT * FROM a;
  CREATE PROCEDURE keep_writing() LANGUAGE plpgsql AS $$
  DECLARE n bigint := 50000;
  BEGIN
    LOOP
      n := n + 1;
      INSERT INTO a VALUES (n, md5(n::text));
      INSERT INTO b VALUES (n, md5(n::text));
      COMMIT;
    END LOOP;
  END $$;`;

/** Row counts of a and b, and whether they hold the same rows. */
const SUMMARY = "SELECT (SELECT count(*) FROM a) || ' ' || (SELECT count(*) FROM b) || ' ' ||" +
  " (SELECT count(*) FROM a FULL JOIN b USING (id) WHERE a.v IS DISTINCT FROM b.v)";

/** Restores a dump tinybackup made into a new database, with pg_restore. */
async function restoreInto(
  env: Record<string, string>,
  dir: string,
  backup: string,
  database: string,
) {
  const dump = `${dir}/${database}.dump`;
  const r = await tinybackup(["restore", backup, "--to", dump]);
  assert.equal(r.code, 0, r.stderr);
  await run("createdb", ["-h", env.PGHOST, "-p", env.PGPORT, "-U", "postgres", database]);
  await run("pg_restore", [
    ...["-h", env.PGHOST, "-p", env.PGPORT, "-U", "postgres", "-d", database],
    "--exit-on-error",
    dump,
  ]);
}

test("a dump made while a writer commits restores with pg_restore, both tables of one moment", async () => {
  await using pg = await startPostgres();
  await using dir = await tempDir();
  await pg.sql("postgres", "CREATE DATABASE app");
  await pg.sql("app", SCHEMA);
  const writer = new Deno.Command("psql", {
    args: ["-X", "-w", "-d", "app", "-c", "CALL keep_writing()"],
    env: pg.env,
    stdout: "null",
    stderr: "null",
  }).spawn();
  let backup: string;
  try {
    // Let it write for a while first.
    while (Number(await pg.sql("app", "SELECT count(*) FROM a")) < 52_000) {
      await new Promise((wake) => setTimeout(wake, 50));
    }
    const r = await tinybackup(["--postgres", "app", "--dest", `${dir.path}/b`], { env: pg.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    backup = r.stdout.trimEnd();
    assert.match(backup, /\/b\/app\.pgdump\.\d{8}T\d{6}Z\.gz$/);
    assert.equal((await Deno.stat(backup)).mode! & 0o777, 0o400, "a dump is private");
  } finally {
    await pg.sql(
      "postgres",
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CALL keep_writing%'",
    );
    await writer.status;
  }
  const after = Number(await pg.sql("app", "SELECT count(*) FROM a"));
  await restoreInto(pg.env, dir.path, backup, "restored");
  const [a, b, differing] = (await pg.sql("restored", SUMMARY)).split(" ").map(Number);
  assert.equal(a, b, "a and b as of one moment");
  assert.equal(differing, 0);
  assert.ok(
    a > 52_000 && a <= after,
    `the dump holds rows written before it (${a}, ${after} at the end)`,
  );
});

test("the same data dumped again is unchanged (pg_dump's creation time does not count); new rows are not", async () => {
  await using pg = await startPostgres();
  await using dir = await tempDir();
  await pg.sql("postgres", "CREATE DATABASE app");
  await pg.sql("app", "CREATE TABLE t (x int); INSERT INTO t VALUES (1)");
  const backUp = () =>
    tinybackup(["--postgres", "app", "--dest", `${dir.path}/b`], { env: pg.env });
  const first = await backUp();
  assert.equal(first.code, 0, first.stderr);
  await new Promise((wake) => setTimeout(wake, 1100)); // another second in the dump's header
  const second = await backUp();
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  assert.match(second.stderr, /unchanged since the backup of/);
  await pg.sql("app", "INSERT INTO t VALUES (2)");
  const third = await backUp();
  assert.notEqual(third.stdout, first.stdout);
  assert.equal((await visibleFiles(`${dir.path}/b`)).length, 2);
});

test("all: one series per database and one for the roles, with excludes; a part that fails rotates nothing of its own", async () => {
  await using pg = await startPostgres();
  await using dir = await tempDir();
  for (const db of ["shop", "blog", "scratch"]) await pg.sql("postgres", `CREATE DATABASE ${db}`);
  await pg.sql("shop", "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2)");
  await pg.sql("postgres", "CREATE ROLE reporter LOGIN PASSWORD 'hashed-in-the-dump'");
  const backUp = () =>
    tinybackup(
      [
        "--postgres",
        "all",
        "--name",
        "pg",
        "--exclude-db",
        "scratch",
        "--dest",
        `${dir.path}/b`,
        "--json",
      ],
      { env: pg.env },
    );
  const r = await backUp();
  assert.equal(r.code, 0, r.stderr);
  const { backups, failed } = JSON.parse(r.stdout);
  assert.deepEqual(backups.map((b: { name: string }) => b.name), [
    "pg.blog",
    "pg.postgres",
    "pg.shop",
    "pg.globals",
  ]);
  assert.deepEqual(failed, []);
  assert.equal(
    new Set(backups.map((b: { time: string }) => b.time)).size,
    1,
    "one timestamp for the run",
  );
  const globals = new TextDecoder().decode(
    await run("gunzip", [
      "-c",
      backups.find((b: { name: string }) => b.name === "pg.globals").path,
    ]),
  );
  assert.match(globals, /CREATE ROLE reporter;/);
  assert.match(globals, /SCRAM-SHA-256\$/, "the roles' password hashes are there");
  for (const b of backups) assert.equal((await Deno.stat(b.path)).mode! & 0o777, 0o400);

  const again = await backUp();
  assert.equal(again.code, 0, again.stderr);
  assert.ok(
    JSON.parse(again.stdout).backups.every((b: { unchanged: boolean }) => b.unchanged),
    `nothing changed, the roles (with their random \\restrict key) neither: ${again.stdout}`,
  );

  // Restored only now: the new database is one more part from here on.
  await restoreInto(
    pg.env,
    dir.path,
    backups.find((b: { name: string }) => b.name === "pg.shop").path,
    "shop2",
  );
  assert.equal(await pg.sql("shop2", "SELECT count(*) FROM orders"), "2");

  // blog can no longer be dumped: its part fails, the others are kept.
  await pg.sql("shop", "INSERT INTO orders VALUES (3)");
  await pg.sql("postgres", "REVOKE CONNECT ON DATABASE blog FROM PUBLIC");
  await pg.sql("postgres", "CREATE ROLE dumper LOGIN; GRANT pg_read_all_data TO dumper");
  const partial = await tinybackup(
    [
      "--postgres",
      "all",
      "--name",
      "pg",
      "--exclude-db",
      "scratch",
      "--dest",
      `${dir.path}/b`,
      "--json",
      "--keep",
      "1",
    ],
    { env: { ...pg.env, PGUSER: "dumper" } },
  );
  assert.equal(partial.code, 1, partial.stderr);
  const outcome = JSON.parse(partial.stdout);
  assert.deepEqual(outcome.failed.map((f: { name: string }) => f.name), ["pg.blog"]);
  assert.ok(
    outcome.backups.some((b: { name: string; unchanged: boolean }) =>
      b.name === "pg.shop" && !b.unchanged
    ),
  );
  assert.match(partial.stderr, /1 of 5 parts failed \(pg\.blog: pg_dump of database 'blog' failed/);
  const names = await visibleFiles(`${dir.path}/b`);
  assert.equal(names.filter((n) => n.startsWith("pg.blog.")).length, 1, "blog's backup is kept");
  assert.equal(names.filter((n) => n.startsWith("pg.shop.")).length, 1, "shop rotated to --keep 1");
});

test("credentials: a password from PGPASSFILE works; none, or a wrong one, is exit 2 without a prompt", async () => {
  await using pg = await startPostgres();
  await using dir = await tempDir();
  await pg.sql("postgres", "CREATE DATABASE app");
  const env = { ...pg.env, PGUSER: "secretive" };
  const missing = await tinybackup(["--postgres", "app", "--dest", `${dir.path}/b`], {
    env: { ...env, PGPASSFILE: `${dir.path}/none` },
  });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /did not accept the login/);
  assert.match(missing.stderr, /hint: .*~\/\.pgpass/);
  const passfile = `${dir.path}/pgpass`;
  await Deno.writeTextFile(passfile, `127.0.0.1:${pg.port}:*:secretive:wrong\n`, { mode: 0o600 });
  const wrong = await tinybackup(["--postgres", "app", "--dest", `${dir.path}/b`], {
    env: { ...env, PGPASSFILE: passfile },
  });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /password authentication failed/);
  assert.equal(
    await Deno.stat(`${dir.path}/b`).catch(() => undefined),
    undefined,
    "nothing written",
  );
  await Deno.writeTextFile(passfile, `127.0.0.1:${pg.port}:*:secretive:${SECRET}\n`, {
    mode: 0o600,
  });
  const right = await tinybackup(["--postgres", "app", "--dest", `${dir.path}/b`], {
    env: { ...env, PGPASSFILE: passfile },
  });
  assert.equal(right.code, 0, right.stderr);
  const uri = await tinybackup(
    [
      "--postgres",
      `postgresql://secretive:${SECRET}@127.0.0.1:${pg.port}/app`,
      "--name",
      "app",
      "--dest",
      `${dir.path}/b`,
    ],
  );
  assert.equal(uri.code, 2);
  assert.match(uri.stderr, /holds a password/);
  assert.ok(!uri.stderr.includes(SECRET), "the password is not repeated");
});

test("bad input: no such database, an unreachable server, an exclude of nothing or of everything: exit 2, nothing written", async () => {
  await using pg = await startPostgres();
  await using dir = await tempDir();
  await pg.sql("postgres", "CREATE DATABASE app");
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--postgres", "nope"], pg.env, /there is no database 'nope' on 127\.0\.0\.1:\d+/],
    [
      ["--postgres", "app"],
      { ...pg.env, PGPORT: "1" },
      /cannot reach PostgreSQL on 127\.0\.0\.1:1/,
    ],
    [
      ["--postgres", "all", "--exclude-db", "nope"],
      pg.env,
      /--exclude-db nope: there is no such database/,
    ],
    [
      ["--postgres", "all", "--exclude-db", "app", "--exclude-db", "postgres"],
      pg.env,
      /--exclude-db leaves no database to back up/,
    ],
    [["--postgres", "app", "--exclude-db", "x"], pg.env, /--exclude-db goes with --postgres all/],
  ];
  for (const [args, env, message] of cases) {
    const r = await tinybackup([...args, "--dest", `${dir.path}/b`], { env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.equal(await Deno.stat(`${dir.path}/b`).catch(() => undefined), undefined);
  }
});

test("a pg_dump older than the server is refused up front, with the package to install", async () => {
  await using pg = await startPostgres();
  await using dir = await tempDir();
  // The only pg_dump here is the server's own version: an older one is one that says so.
  await Deno.mkdir(`${dir.path}/bin`);
  await Deno.writeTextFile(
    `${dir.path}/bin/pg_dump`,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo 'pg_dump (PostgreSQL) 12.22'; exit 0; fi\nexit 1\n`,
    { mode: 0o755 },
  );
  const r = await tinybackup(["--postgres", "postgres", "--dest", `${dir.path}/b`], {
    env: { ...pg.env, PATH: `${dir.path}/bin:${Deno.env.get("PATH")}` },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /pg_dump 12 cannot dump the newer PostgreSQL \d+ on 127\.0\.0\.1/);
  assert.match(
    r.stderr,
    /hint: install the client programs of PostgreSQL \d+ or later \(Debian: postgresql-client-\d+\)/,
  );
});

withPostgresAndAt.test("postgres: a scheduled job keeps where to connect but never a password, and runs as atd runs it", async () => {
  const QUEUE = "v";
  await emptyQueue(QUEUE);
  await using pg = await startPostgres();
  await using dir = await tempDir();
  await pg.sql("postgres", "CREATE DATABASE app");
  const passfile = `${dir.path}/pgpass`;
  await Deno.writeTextFile(passfile, `127.0.0.1:${pg.port}:*:secretive:${SECRET}\n`, {
    mode: 0o600,
  });
  const env = {
    ...pg.env,
    PGUSER: "secretive",
    PGPASSFILE: passfile,
    PGPASSWORD: SECRET,
    TINYBACKUP_AT_QUEUE: QUEUE,
    XDG_STATE_HOME: `${dir.path}/state`,
  };
  try {
    const r = await tinybackup(["--postgres", "app", "--dest", `${dir.path}/b`, "--every", "1d"], {
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: PGPASSWORD is not kept in the scheduled job/);
    const [atJob] = await queued(QUEUE);
    const script = new TextDecoder().decode(await jobScript(atJob));
    assert.ok(!script.includes(SECRET), "no password in the at job");
    assert.match(script, new RegExp(`"PGPORT":"${pg.port}"`));
    const ran = await runScript(await takeJob(atJob));
    assert.equal(ran.code, 0, ran.stderr);
    const log = JSON.parse((await tinybackup(["log", "--json"], { env })).stdout);
    assert.equal(log[0].result, "unchanged", log[0].message);
  } finally {
    await emptyQueue(QUEUE);
  }
});
