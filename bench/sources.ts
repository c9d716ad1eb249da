/**
 * The rows of issue 10's other sources: a PostgreSQL database backed up by
 * `tinybackup --postgres` against `pg_dump -Fc` into a file (plus `sync`),
 * on a server the bench starts for itself (tests/_postgres.ts), and what
 * each source needs to make the peak-memory rows: a command, a folder, a
 * SQLite database and a PostgreSQL database of a given size.
 */
import { join } from "node:path";
import { POSTGRES, type PostgresServer, startPostgres } from "../tests/_postgres.ts";
import { freshFolder, shellContender, tinybackupCommand } from "./contenders.ts";
import type { Contender } from "./measure.ts";

export const POSTGRES_LABELS = {
  backup: "tinybackup --postgres --compress gzip",
  pgDump: "pg_dump -Fc -f",
} as const;

/** The database the bench dumps. */
export const BENCH_DATABASE = "bench";

/** Rows are added in batches of this many until the database is large enough. */
const ROWS_PER_BATCH = 500_000;

/** Why PostgreSQL cannot be benched here, or undefined when it can. */
export function postgresMissing(): Promise<string | undefined> {
  return POSTGRES.unmet();
}

/**
 * Starts a server and points this process's libpq variables at it, so that
 * every contender (tinybackup and pg_dump alike) reaches it.
 */
export async function startBenchPostgres(): Promise<PostgresServer> {
  const pg = await startPostgres();
  for (const [name, value] of Object.entries(pg.env)) Deno.env.set(name, value);
  return pg;
}

/**
 * Makes `database` hold at least `bytes` as pg_database_size counts them
 * (an empty one holds about 7 MiB): a table of orders (numbers, short
 * names, hex notes, amounts and times), which a dump compresses about as
 * well as business data does. Returns the size it reached.
 */
export async function fillDatabase(
  pg: PostgresServer,
  database: string,
  bytes: number,
): Promise<number> {
  await pg.sql("postgres", `DROP DATABASE IF EXISTS ${database}`);
  await pg.sql("postgres", `CREATE DATABASE ${database}`);
  await pg.sql(
    database,
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer text, note text, amount numeric(12,2), created timestamptz)",
  );
  for (let first = 1;; first += ROWS_PER_BATCH) {
    const size = Number(await pg.sql(database, `SELECT pg_database_size('${database}')`));
    if (size >= bytes) return size;
    const rows = Math.max(1, Math.min(ROWS_PER_BATCH, Math.ceil((bytes - size) / 150)));
    await pg.sql(
      database,
      `INSERT INTO orders SELECT i, 'customer-' || (i * 7919 % 100003), md5(i::text) || ' ' ||
        left(md5((i * 31)::text), 12), (i * 7 % 100000) / 100.0,
        timestamptz '2026-01-01' + i * interval '1 second'
       FROM generate_series(${first}::bigint, ${first + rows - 1}) i`,
    );
  }
}

/** The contenders on `database`; the second is the reference. */
export async function postgresContenders(database: string, work: string): Promise<Contender[]> {
  const out = (n: number) => join(work, `postgres-out-${n}`);
  return [
    {
      label: POSTGRES_LABELS.backup,
      command: tinybackupCommand([
        ...["--postgres", database, "--dest", out(0), "--compress", "gzip"],
        ...["--force", "--keep", "0"],
      ]),
      ...freshFolder(out(0)),
    },
    await shellContender(POSTGRES_LABELS.pgDump, 'pg_dump -Fc -d "$1" -f "$2"', database, out(1)),
  ];
}

/** A SQLite database of about `bytes` (one table of text rows), made by the sqlite3 shell. */
export async function makeSqliteDatabase(path: string, bytes: number): Promise<void> {
  await Deno.remove(path).catch(() => {});
  const rows = Math.max(1, Math.ceil(bytes / 120));
  const { code, stderr } = await new Deno.Command("sqlite3", {
    args: [
      path,
      "PRAGMA journal_mode=WAL; CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);" +
      " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + rows + ")" +
      " INSERT INTO notes SELECT i, 'note ' || i || ' ' || hex(randomblob(24)) || ' ' ||" +
      " substr('lorem ipsum dolor sit amet consectetur adipiscing elit', 1 + i % 40) FROM n;",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`sqlite3 failed: ${new TextDecoder().decode(stderr)}`);
}
