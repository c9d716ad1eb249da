import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { MAX_LOG_BYTES, parseRunLog, type RunRecord } from "../../lib/schedule/run_log.ts";

const OK: RunRecord = {
  time: "2026-06-10T16:17:00.412Z",
  id: "0123abcd",
  result: "ok",
  message: "backed up to /mnt/backup/notes.db.20260610T161700Z.gz",
  path: "/mnt/backup/notes.db.20260610T161700Z.gz",
  nextAtJob: 12,
};
const FAILED: RunRecord = {
  time: "2026-06-10T22:17:00.103Z",
  id: "0123abcd",
  result: "failed",
  message: "the destination is full",
  nextAtJob: 13,
};
const line = (record: unknown) => JSON.stringify(record) + "\n";

// parseRunLog

Deno.test("parseRunLog reads one record per line, in order, with every field", () => {
  assert.deepEqual(parseRunLog(line(OK) + line(FAILED)), [OK, FAILED]);
});

Deno.test("parseRunLog gives no records for an empty log", () => {
  assert.deepEqual(parseRunLog(""), []);
  assert.deepEqual(parseRunLog("\n\n"), []);
});

Deno.test("parseRunLog skips a torn last line", () => {
  const torn = JSON.stringify(FAILED).slice(0, 40);
  assert.deepEqual(parseRunLog(line(OK) + torn), [OK]);
  assert.deepEqual(parseRunLog(line(OK) + torn + "\n"), [OK]);
});

Deno.test("parseRunLog skips lines that are not records and keeps the rest", () => {
  const log = [
    "not json at all",
    JSON.stringify(OK),
    "null",
    "42",
    '"a string"',
    "[]",
    "{}",
    JSON.stringify({ ...OK, id: undefined }),
    JSON.stringify({ ...OK, id: 12345678 }),
    JSON.stringify({ ...OK, time: undefined }),
    JSON.stringify({ ...OK, time: 1781108220412 }),
    "",
    "   ",
    "{broken",
    JSON.stringify(FAILED),
    "\u0000\u0000\u0000",
  ].join("\n");
  assert.deepEqual(parseRunLog(log), [OK, FAILED]);
});

Deno.test("parseRunLog reads lines ending in CRLF", () => {
  assert.deepEqual(parseRunLog(JSON.stringify(OK) + "\r\n" + JSON.stringify(FAILED)), [OK, FAILED]);
});

// appendRun and readRuns, in a child process with XDG_STATE_HOME set

const CHILD = fileURLToPath(new URL("./_run_log_child.ts", import.meta.url));

async function child(stateHome: string, ...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", "--allow-write", "--allow-env", CHILD, ...args],
    env: { XDG_STATE_HOME: stateHome },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, `_run_log_child.ts ${args[0]} failed:\n${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

async function readRunsIn(stateHome: string): Promise<RunRecord[]> {
  return JSON.parse(await child(stateHome, "read"));
}

/** Runs `test` with a fresh, empty XDG_STATE_HOME. */
async function withStateHome(test: (home: string, logDir: string) => Promise<void>) {
  const home = await Deno.makeTempDir({ prefix: "tinybackup-state-" });
  try {
    await test(home, `${home}/tinybackup`);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("readRuns gives no records before any run", async () => {
  await withStateHome(async (home) => {
    assert.deepEqual(await readRunsIn(home), []);
  });
});

Deno.test("appendRun writes one private line per run, and readRuns reads them back", async () => {
  await withStateHome(async (home, logDir) => {
    await child(home, "append", JSON.stringify(OK));
    await child(home, "append", JSON.stringify(FAILED));
    assert.equal(await Deno.readTextFile(`${logDir}/runs.log`), line(OK) + line(FAILED));
    assert.deepEqual(await readRunsIn(home), [OK, FAILED]);
    assert.equal((await Deno.stat(`${logDir}/runs.log`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(logDir)).mode! & 0o077, 0, "the state folder is private");
  });
});

Deno.test("readRuns skips a torn line left by an interrupted write", async () => {
  await withStateHome(async (home, logDir) => {
    await Deno.mkdir(logDir, { recursive: true });
    await Deno.writeTextFile(`${logDir}/runs.log`, line(OK) + JSON.stringify(FAILED).slice(0, 30));
    assert.deepEqual(await readRunsIn(home), [OK]);
  });
});

/**
 * Log text of exactly `bytes` bytes: numbered records for job `id`, then a
 * line of spaces (which is no record) to fill up.
 */
function logOf(id: string, bytes: number): { text: string; records: RunRecord[] } {
  const records: RunRecord[] = [];
  let text = "";
  for (let i = 0; text.length < bytes - 1000; i++) {
    const record: RunRecord = {
      time: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      id,
      result: "ok",
      message: `run ${i} ${"x".repeat(100)}`,
    };
    records.push(record);
    text += line(record);
  }
  text += " ".repeat(bytes - text.length - 1) + "\n";
  assert.equal(new TextEncoder().encode(text).length, bytes);
  return { text, records };
}

Deno.test("appendRun starts a new log at 1 MiB, replacing the older one", async () => {
  await withStateHome(async (home, logDir) => {
    await Deno.mkdir(logDir, { recursive: true });
    const full = logOf("aaaaaaaa", MAX_LOG_BYTES);
    await Deno.writeTextFile(`${logDir}/runs.log`, full.text);
    await Deno.writeTextFile(`${logDir}/runs.log.1`, line({ ...OK, id: "0ldl0g00" }));

    await child(home, "append", JSON.stringify(OK));

    assert.equal(await Deno.readTextFile(`${logDir}/runs.log.1`), full.text);
    assert.equal(await Deno.readTextFile(`${logDir}/runs.log`), line(OK));
    assert.deepEqual(await readRunsIn(home), [...full.records, OK]);
  });
});

Deno.test("appendRun keeps appending to a log just under 1 MiB", async () => {
  await withStateHome(async (home, logDir) => {
    await Deno.mkdir(logDir, { recursive: true });
    const text = line(OK).padStart(MAX_LOG_BYTES - 1, " ");
    await Deno.writeTextFile(`${logDir}/runs.log`, text);

    await child(home, "append", JSON.stringify(FAILED));

    await assert.rejects(Deno.stat(`${logDir}/runs.log.1`), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(`${logDir}/runs.log`), text + line(FAILED));
    assert.deepEqual(await readRunsIn(home), [OK, FAILED]);
  });
});

Deno.test("appendRun from concurrent runs never interleaves lines", async () => {
  await withStateHome(async (home, logDir) => {
    const ids = ["11111111", "22222222", "33333333", "44444444"];
    await Promise.all(ids.map((id) => child(home, "append-many", id, "100")));
    const text = await Deno.readTextFile(`${logDir}/runs.log`);
    const lines = text.split("\n");
    assert.equal(lines.pop(), "", "the log ends with a newline");
    assert.equal(lines.length, 400);
    const records = parseRunLog(text);
    assert.equal(records.length, 400, "every line is a whole record");
    for (const id of ids) {
      const messages = records.filter((r) => r.id === id).map((r) => r.message.split(" ")[1]);
      assert.deepEqual(messages, Array.from({ length: 100 }, (_, i) => String(i)), id);
    }
  });
});
