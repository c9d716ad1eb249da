/**
 * A worker that writes a consistent snapshot of a SQLite database for
 * sqlite_source.ts. node:sqlite is synchronous: run on the main thread, a
 * snapshot of a large database would keep Ctrl-C from being heard until it
 * ended.
 */
import { DatabaseSync } from "node:sqlite";

export interface SnapshotRequest {
  /** The live database, opened read-only. */
  database: string;
  /** An empty file that receives the snapshot. */
  target: string;
  /** How long to wait for a writer's lock, in milliseconds. */
  busyTimeoutMs: number;
}

/** Empty on success; otherwise SQLite's message and code. */
export interface SnapshotReply {
  error?: { message: string; code?: string; errcode?: number };
}

const worker = self as unknown as Worker;

worker.onmessage = (event: MessageEvent<SnapshotRequest>) => {
  const { database, target, busyTimeoutMs } = event.data;
  let db: DatabaseSync | undefined;
  try {
    // Read-only: the snapshot never writes to the database, nor checkpoints its WAL.
    db = new DatabaseSync(database, { readOnly: true });
    // Set by pragma: Deno's node:sqlite ignores the constructor's timeout option (2.9.6).
    db.exec(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
    // One statement, one read transaction: a snapshot of a single moment,
    // whatever other connections write meanwhile (WAL or rollback journal).
    db.prepare("VACUUM INTO ?").run(target);
    worker.postMessage({} satisfies SnapshotReply);
  } catch (error) {
    const e = error as { message?: string; code?: string; errcode?: number };
    worker.postMessage(
      {
        error: { message: String(e.message ?? error), code: e.code, errcode: e.errcode },
      } satisfies SnapshotReply,
    );
  } finally {
    db?.close();
  }
};
