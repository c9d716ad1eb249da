/**
 * The history of scheduled runs: one JSON line per run in `runs.log` in the
 * state folder. Bounded: past 1 MiB the log becomes `runs.log.1` (replacing
 * the previous one) and a new log starts, so it never grows without end.
 */
import { join } from "node:path";
import { ensureStateDir, stateDir } from "./state.ts";

export type RunResult = "ok" | "unchanged" | "failed" | "stopped" | "cancelled";

export interface RunRecord {
  /** When the run started, ISO 8601. */
  time: string;
  /** The job's id. */
  id: string;
  result: RunResult;
  /** What happened, in words. */
  message: string;
  /** The backup made (or found unchanged), when there is one. */
  path?: string;
  /** The at(1) job number of the next run queued, when one was. */
  nextAtJob?: number;
}

const LOG = "runs.log";
const OLD_LOG = "runs.log.1";
export const MAX_LOG_BYTES = 1024 * 1024;

/** Parses log text; lines that are not records (a torn last line, say) are skipped. */
export function parseRunLog(text: string): RunRecord[] {
  return text.split("\n").flatMap((line) => {
    try {
      const record = JSON.parse(line) as RunRecord;
      return typeof record?.id === "string" && typeof record.time === "string" ? [record] : [];
    } catch {
      return [];
    }
  });
}

/** Where the run log is; scheduled jobs write to it even when the program is gone. */
export function runLogPath(): string {
  return join(stateDir(), LOG);
}

/** Appends one record, rotating the log first when it is full. */
export async function appendRun(record: RunRecord): Promise<void> {
  const dir = await ensureStateDir();
  const path = join(dir, LOG);
  const size = (await Deno.stat(path).catch(() => undefined))?.size ?? 0;
  if (size >= MAX_LOG_BYTES) await Deno.rename(path, join(dir, OLD_LOG));
  // One write with O_APPEND: concurrent runs never interleave within a line.
  await Deno.writeTextFile(path, JSON.stringify(record) + "\n", { append: true, mode: 0o600 });
}

/** Every record kept, oldest first. */
export async function readRuns(): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (const name of [OLD_LOG, LOG]) {
    try {
      records.push(...parseRunLog(await Deno.readTextFile(join(stateDir(), name))));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return records;
}
