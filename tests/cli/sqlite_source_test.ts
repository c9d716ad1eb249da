/**
 * `tinybackup --sqlite DB --dest D`, end to end: a consistent snapshot of a
 * live database while another process writes to it (WAL and rollback
 * journal), restored and checked with the sqlite3 program.
 */
import assert from "node:assert/strict";
import { needs, programs } from "../_requires.ts";
import { IS_ROOT, NOBODY, run, tempDir, tinybackup, visibleFiles } from "./_cli.ts";
import { check, makeDatabase, startWriter } from "./_sqlite_database.ts";

const withSqlite = await needs("cli/sqlite_source_test.ts", programs("sqlite3", "gunzip"));
const test = (name: string, fn: () => Promise<void>) => withSqlite.test(`sqlite: ${name}`, fn);

for (const journalMode of ["wal", "delete"] as const) {
  test(`a ${journalMode} database written to during the backup gives a consistent snapshot`, async () => {
    await using dir = await tempDir();
    const db = `${dir.path}/app.db`;
    makeDatabase(db, journalMode);
    const writer = await startWriter(db);
    const paths: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const r = await tinybackup(["--sqlite", db, "--dest", `${dir.path}/b`, "--keep", "0"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
        paths.push(r.stdout.trimEnd());
      }
    } finally {
      assert.equal(await writer.stop(), "", "the writer never failed");
    }
    assert.equal(new Set(paths).size, 3, "each run saw new writes, so made a new backup");
    let previous = 0;
    for (const path of paths) {
      const restored = `${dir.path}/restored-${paths.indexOf(path)}.db`;
      const r = await tinybackup(["restore", path, "--to", restored]);
      assert.equal(r.code, 0, r.stderr);
      const found = await check(restored);
      assert.equal(found.integrity, "ok");
      assert.equal(found.a, found.b, "both tables as of one moment");
      assert.equal(found.differing, 0);
      assert.ok(found.a > previous, `rows grew from backup to backup (${previous} -> ${found.a})`);
      previous = found.a;
    }
    const live = await check(db);
    assert.ok(live.a >= previous);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir.path}/b/.tinybackup/tmp`)],
      [],
      "no snapshot left",
    );
  });
}

test("the backup is gzip of a database sqlite3 opens, no more readable than the database, and unchanged twice", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/app.db`;
  makeDatabase(db, "delete", 100);
  await Deno.chmod(db, 0o640);
  const before = [...Deno.readDirSync(dir.path)].map((e) => e.name).sort();
  const r = await tinybackup(["--sqlite", db, "--dest", `${dir.path}/b`]);
  assert.equal(r.code, 0, r.stderr);
  const path = r.stdout.trimEnd();
  assert.match(path, /\/b\/app\.db\.\d{8}T\d{6}Z\.gz$/);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o440);
  await Deno.writeFile(`${dir.path}/plain.db`, await run("gunzip", ["-c", path]));
  assert.deepEqual(await check(`${dir.path}/plain.db`), {
    integrity: "ok",
    a: 100,
    b: 100,
    differing: 0,
  });
  const after = [...Deno.readDirSync(dir.path)].map((e) => e.name).sort();
  assert.deepEqual(
    after.filter((n) => n !== "b" && n !== "plain.db"),
    before,
    "nothing new beside the database",
  );
  const again = await tinybackup(["--sqlite", db, "--dest", `${dir.path}/b`]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, r.stdout);
  assert.match(again.stderr, /unchanged/);
  const listed = JSON.parse(
    (await tinybackup(["list", "--dest", `${dir.path}/b`, "--json"])).stdout,
  );
  assert.equal(listed[0].sourceKind, "sqlite");
  assert.equal(listed[0].source, db);
  const byFile = await tinybackup(["list", "--dest", `${dir.path}/b`, "--file", db, "--json"]);
  assert.equal(JSON.parse(byFile.stdout).length, 1, "list --file finds a database's backups");
});

test("bad input: not a database, a folder, or missing is exit 2 and writes nothing", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/notes.txt`, "not a database\n".repeat(10));
  const cases: [string, RegExp][] = [
    [`${dir.path}/notes.txt`, /not a SQLite database: .*notes\.txt/],
    [dir.path, /not a regular file/],
    [`${dir.path}/missing.db`, /file not found/],
  ];
  for (const [path, message] of cases) {
    const r = await tinybackup(["--sqlite", path, "--dest", `${dir.path}/b`]);
    assert.equal(r.code, 2, path);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.equal(await Deno.stat(`${dir.path}/b`).catch(() => undefined), undefined);
  }
});

if (IS_ROOT) {
  test("a user who cannot create a WAL database's -shm file gets a clear error, and nothing is written", async () => {
    await using dir = await tempDir();
    const db = `${dir.path}/data/app.db`;
    await Deno.mkdir(`${dir.path}/data`);
    makeDatabase(db, "wal", 10);
    await Deno.chmod(db, 0o644);
    await Deno.mkdir(`${dir.path}/b`);
    await Deno.chown(`${dir.path}/b`, NOBODY.uid, NOBODY.gid);
    await Deno.chmod(dir.path, 0o755);
    const r = await tinybackup(["--sqlite", db, "--dest", `${dir.path}/b`], { asUser: NOBODY });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /it is in WAL mode, and this user can neither open nor create its -shm file/,
    );
    assert.deepEqual(await visibleFiles(`${dir.path}/b`), []);
  });
}
