/**
 * SQLite databases for the tests: two tables that every consistent snapshot
 * holds equal, a writer that keeps adding to both, and a check with sqlite3.
 */
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { run } from "./_cli.ts";

const WRITER = fileURLToPath(new URL("./_sqlite_writer.ts", import.meta.url));

/** A database with tables a and b of `rows` equal rows each, in `journalMode`. */
export function makeDatabase(path: string, journalMode: "wal" | "delete", rows = 20_000): void {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA journal_mode = ${journalMode}`);
  db.exec(
    "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b(id INTEGER PRIMARY KEY, v TEXT)",
  );
  db.exec(`BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
    INSERT INTO a(id, v) SELECT i, 'seed ' || i || hex(randomblob(100)) FROM n;
    INSERT INTO b SELECT * FROM a; COMMIT`);
  db.close();
}

/** What sqlite3 says of a database: integrity, row counts, and rows a and b disagree on. */
export async function check(
  path: string,
): Promise<{ integrity: string; a: number; b: number; differing: number }> {
  const out = new TextDecoder().decode(
    await run("sqlite3", [
      path,
      "PRAGMA integrity_check; SELECT count(*) FROM a; SELECT count(*) FROM b;" +
      " SELECT count(*) FROM a FULL JOIN b USING (id) WHERE a.v IS NOT b.v;",
    ]),
  ).trim().split("\n");
  return { integrity: out[0], a: Number(out[1]), b: Number(out[2]), differing: Number(out[3]) };
}

/** Starts the writer on `path`, once it has written. */
export async function startWriter(path: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, path],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  return {
    async stop(): Promise<string> {
      child.kill("SIGTERM");
      const { stderr } = await child.output();
      return new TextDecoder().decode(stderr);
    },
  };
}
