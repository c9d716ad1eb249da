/**
 * A process that writes to a SQLite database until it is killed, for
 * tests/cli/sqlite_source_test.ts: each transaction adds one row to table a
 * and the same row to table b, so any consistent snapshot has equal tables.
 * Prints "ready" once writing, and any error on stderr.
 * Usage: deno run -A _sqlite_writer.ts DB
 */
import { DatabaseSync } from "node:sqlite";

const db = new DatabaseSync(Deno.args[0]);
db.exec("PRAGMA busy_timeout = 20000");
const intoA = db.prepare("INSERT INTO a(v) VALUES (?)");
const intoB = db.prepare("INSERT INTO b(id, v) VALUES (last_insert_rowid(), ?)");
let announced = false;
for (let i = 0;; i++) {
  const value = `row ${i} ${"x".repeat(200)}`;
  db.exec("BEGIN IMMEDIATE");
  intoA.run(value);
  intoB.run(value);
  db.exec("COMMIT");
  if (!announced) {
    console.log("ready");
    announced = true;
  }
  // A short rest now and then, as an application's writes have: in rollback-journal mode a
  // writer that never pauses starves every reader, the snapshot included. It also lets SIGTERM in.
  if (i % 10 === 0) await new Promise((wake) => setTimeout(wake, 1));
}
