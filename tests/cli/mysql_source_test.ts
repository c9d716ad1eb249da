/**
 * `tinybackup --mysql DB|all --dest D`, end to end against a real MariaDB
 * server started for the tests (tests/_mariadb.ts): a dump made while a
 * writer commits, restored with `mariadb DB < dump` and compared; parts,
 * credentials from ~/.my.cnf, and bad input.
 */
import assert from "node:assert/strict";
import { MARIADB, MY_SECRET, startMariadb } from "../_mariadb.ts";
import { needs, programs } from "../_requires.ts";
import { run, tempDir, tinybackup, visibleFiles } from "./_cli.ts";

const withMariadb = await needs("cli/mysql_source_test.ts", MARIADB, programs("gunzip"));
const test = (name: string, fn: () => Promise<void>) => withMariadb.test(`mysql: ${name}`, fn);

const SCHEMA = `
  CREATE TABLE a (id BIGINT PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=InnoDB;
  CREATE TABLE b (id BIGINT PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=InnoDB;
  INSERT INTO a SELECT seq, md5(seq) FROM seq_1_to_50000;
  INSERT INTO b SELECT * FROM a;
  CREATE TABLE control (stop INT NOT NULL) ENGINE=InnoDB;
  INSERT INTO control VALUES (0);
DELIMITER //
  CREATE PROCEDURE keep_writing()
  BEGIN
    DECLARE n BIGINT DEFAULT 50000;
    WHILE (SELECT stop FROM control) = 0 DO
      SET n = n + 1;
      START TRANSACTION;
      INSERT INTO a VALUES (n, md5(n));
      INSERT INTO b VALUES (n, md5(n));
      COMMIT;
    END WHILE;
  END //`;

const SUMMARY = "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)," +
  " (SELECT count(*) FROM a LEFT JOIN b USING (id) WHERE b.v IS NULL OR a.v <> b.v)";

test("a dump made while a writer commits restores with mariadb, both tables of one moment", async () => {
  await using my = await startMariadb();
  await using dir = await tempDir();
  await my.sql("CREATE DATABASE shop");
  await my.sql(SCHEMA, "shop");
  const writer = new Deno.Command("mariadb", {
    args: ["-e", "CALL keep_writing()", "shop"],
    env: { HOME: my.home },
    stdout: "null",
    stderr: "null",
  }).spawn();
  let backup: string;
  try {
    let writing = true;
    writer.status.then(() => writing = false);
    const deadline = Date.now() + 60_000;
    while (Number(await my.sql("SELECT count(*) FROM a", "shop")) < 52_000) {
      assert.ok(writing && Date.now() < deadline, "the writer writes");
      await new Promise((wake) => setTimeout(wake, 50));
    }
    const r = await tinybackup(["--mysql", "shop", "--dest", `${dir.path}/b`], {
      env: { HOME: my.home },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    backup = r.stdout.trimEnd();
    assert.match(backup, /\/b\/shop\.sql\.\d{8}T\d{6}Z\.gz$/);
    assert.equal((await Deno.stat(backup)).mode! & 0o777, 0o400, "a dump is private");
  } finally {
    await my.sql("UPDATE control SET stop = 1", "shop");
    await writer.status;
  }
  const after = Number(await my.sql("SELECT count(*) FROM a", "shop"));
  await my.sql("CREATE DATABASE restored");
  await run("sh", ["-c", 'gunzip -c "$1" | HOME="$2" mariadb restored', "sh", backup, my.home]);
  const [a, b, differing] = (await my.sql(SUMMARY, "restored")).split("\t").map(Number);
  assert.equal(a, b, "a and b as of one moment");
  assert.equal(differing, 0);
  assert.ok(
    a > 52_000 && a <= after,
    `the dump holds rows written before it (${a}, ${after} at the end)`,
  );
  assert.match(
    await my.sql("SHOW PROCEDURE STATUS WHERE Db = 'restored'"),
    /keep_writing/,
    "routines too",
  );
});

test("the same data dumped again is unchanged; new rows are not", async () => {
  await using my = await startMariadb();
  await using dir = await tempDir();
  await my.sql(
    "CREATE DATABASE app; CREATE TABLE app.t (x INT) ENGINE=InnoDB; INSERT INTO app.t VALUES (1)",
  );
  const backUp = () =>
    tinybackup(["--mysql", "app", "--dest", `${dir.path}/b`], { env: { HOME: my.home } });
  const first = await backUp();
  assert.equal(first.code, 0, first.stderr);
  await new Promise((wake) => setTimeout(wake, 1100));
  const second = await backUp();
  assert.equal(second.stdout, first.stdout);
  assert.match(second.stderr, /unchanged since the backup of/);
  await my.sql("INSERT INTO app.t VALUES (2)");
  const third = await backUp();
  assert.notEqual(third.stdout, first.stdout);
  assert.equal((await visibleFiles(`${dir.path}/b`)).length, 2);
});

test("all: one series per database, the server's own left out, and the users and grants", async () => {
  await using my = await startMariadb();
  await using dir = await tempDir();
  await my.sql("CREATE DATABASE shop; CREATE DATABASE blog; CREATE DATABASE scratch");
  const r = await tinybackup(
    [
      "--mysql",
      "all",
      "--name",
      "my",
      "--exclude-db",
      "scratch",
      "--dest",
      `${dir.path}/b`,
      "--json",
    ],
    { env: { HOME: my.home } },
  );
  assert.equal(r.code, 0, r.stderr);
  const { backups, failed } = JSON.parse(r.stdout);
  assert.deepEqual(failed, []);
  assert.deepEqual(backups.map((b: { name: string }) => b.name), [
    "my.blog",
    "my.mysql",
    "my.shop",
    "my.users",
  ]);
  const users = new TextDecoder().decode(
    await run("gunzip", ["-c", backups.find((b: { name: string }) => b.name === "my.users").path]),
  );
  assert.match(users, /CREATE USER `secretive`@`localhost`/);
});

test("credentials come from ~/.my.cnf: a wrong password is exit 2 without a prompt, nothing written", async () => {
  await using my = await startMariadb();
  await using dir = await tempDir();
  await my.sql("CREATE DATABASE app");
  const home = `${dir.path}/home`;
  await Deno.mkdir(home);
  const cnf = (password: string) =>
    Deno.writeTextFile(
      `${home}/.my.cnf`,
      `[client]\nsocket=${my.socket}\nuser=secretive\npassword=${password}\n`,
      {
        mode: 0o600,
      },
    );
  await cnf("wrong");
  const wrong = await tinybackup(["--mysql", "app", "--dest", `${dir.path}/b`], {
    env: { HOME: home },
  });
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /did not accept the login: ERROR 1045/);
  assert.match(wrong.stderr, /hint: put the user and password in ~\/\.my\.cnf/);
  assert.equal(await Deno.stat(`${dir.path}/b`).catch(() => undefined), undefined);
  await cnf(MY_SECRET);
  const right = await tinybackup(["--mysql", "app", "--dest", `${dir.path}/b`], {
    env: { HOME: home },
  });
  assert.equal(right.code, 0, right.stderr);
});

test("bad input: no such database, an unreachable server, an exclude of nothing: exit 2, nothing written", async () => {
  await using my = await startMariadb();
  await using dir = await tempDir();
  const nowhere = `${dir.path}/nowhere`;
  await Deno.mkdir(nowhere);
  await Deno.writeTextFile(
    `${nowhere}/.my.cnf`,
    `[client]\nsocket=${dir.path}/no-socket\nuser=root\n`,
  );
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--mysql", "nope"], { HOME: my.home }, /there is no database 'nope'/],
    [
      ["--mysql", "app"],
      { HOME: nowhere },
      /cannot reach the MySQL\/MariaDB server/,
    ],
    [
      ["--mysql", "all", "--exclude-db", "nope"],
      { HOME: my.home },
      /--exclude-db nope: there is no such database/,
    ],
  ];
  for (const [args, env, message] of cases) {
    const r = await tinybackup([...args, "--dest", `${dir.path}/b`], { env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.equal(await Deno.stat(`${dir.path}/b`).catch(() => undefined), undefined);
  }
});
