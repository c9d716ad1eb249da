/**
 * Helpers for the race tests (changing_source_test.ts, concurrency_test.ts):
 * a tinybackup process that can be watched and paused mid-read, and backups
 * read back with standard tools only.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { commandLine, type Run, run } from "../cli/_cli.ts";

export const MiB = 1024 * 1024;

/** A tinybackup process started in the background. */
export interface Started {
  child: Deno.ChildProcess;
  pid: number;
  /** Its exit code and output, once it has exited. */
  result: Promise<Run>;
  /** Whether it has exited. */
  exited(): boolean;
}

/** Starts `tinybackup ARGS...` without waiting for it. */
export function startTinybackup(
  args: string[],
  options: { env?: Record<string, string>; stdin?: Uint8Array } = {},
): Started {
  const [program, ...rest] = commandLine(args);
  const child = new Deno.Command(program, {
    args: rest,
    env: options.env,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let done = false;
  const result = (async () => {
    if (options.stdin) {
      const writer = child.stdin.getWriter();
      await writer.write(options.stdin);
      await writer.close();
    }
    const { code, stdout, stderr } = await child.output();
    done = true;
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr), bytes: stdout };
  })();
  return { child, pid: child.pid, result, exited: () => done };
}

/**
 * How far process `pid` has read the open file `path` (its file offset, from
 * /proc/PID/fdinfo), or undefined when it has no such file open. Deno lets
 * only --allow-all read /proc/PID, so find and sed look.
 */
export async function readPosition(pid: number, path: string): Promise<number | undefined> {
  const script = 'for fd in $(find "/proc/$1/fd" -lname "$2" -printf "%f\\n" 2>/dev/null); do ' +
    'sed -n "s/^pos:[[:space:]]*//p" "/proc/$1/fdinfo/$fd" 2>/dev/null; done';
  const { stdout } = await new Deno.Command("sh", {
    args: ["-c", script, "sh", String(pid), path],
    stderr: "null",
  }).output();
  // Where the file is open more than once, the read ahead counts: the kernel's
  // copy beside an uncompressed read (Deno.copyFile) reads at offsets of its
  // own and leaves its descriptor's position at 0 throughout.
  const positions = new TextDecoder().decode(stdout).split("\n").filter((l) => /^\d+$/.test(l));
  return positions.length === 0 ? undefined : Math.max(...positions.map(Number));
}

/**
 * Stops process `pid` (SIGSTOP) as soon as it has read `minBytes` of `path`.
 * The watching runs in a child Deno with full permissions, in a tight loop
 * without spawning anything. The process is held (SIGSTOP) until the watcher
 * has started and is looking, so even a read that takes milliseconds is
 * caught, however long the watcher took to start: call this right after
 * starting the process, before it reads. Returns false when the process
 * ended first, or never read that far.
 */
export async function stopAfterReading(
  pid: number,
  path: string,
  minBytes: number,
): Promise<boolean> {
  try {
    Deno.kill(pid, "SIGSTOP");
  } catch {
    return false; // It ended already.
  }
  const watcher = new Deno.Command(Deno.execPath(), {
    args: ["eval", STOP_AFTER_READING, String(pid), path, String(minBytes)],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    // The watcher says "ready" once it is about to look.
    const reader = watcher.stdout.getReader();
    await reader.read();
    await reader.cancel();
  } finally {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      // It ended meanwhile.
    }
  }
  return (await watcher.status).code === 0;
}

const STOP_AFTER_READING = `
const [pid, path, minBytes] = [Number(Deno.args[0]), Deno.args[1], Number(Deno.args[2])];
console.log("ready");
const deadline = Date.now() + 30_000;
// The descriptors that have the file open; looked for again only while there are none,
// so that each look at a position is one small read and a fast read is not overshot.
let fds = [];
while (Date.now() < deadline) {
  if (fds.length === 0) {
    try {
      for (const fd of Deno.readDirSync("/proc/" + pid + "/fd")) {
        try {
          if (Deno.readLinkSync("/proc/" + pid + "/fd/" + fd.name) === path) fds.push(fd.name);
        } catch {
          // Closed meanwhile.
        }
      }
    } catch {
      Deno.exit(2); // the process is gone
    }
  }
  let pos;
  for (const fd of fds) {
    try {
      const info = Deno.readTextFileSync("/proc/" + pid + "/fdinfo/" + fd);
      pos = Math.max(pos ?? 0, Number(/^pos:\\s+(\\d+)/m.exec(info)?.[1]));
    } catch {
      fds = []; // closed: look again
      break;
    }
  }
  if (pos !== undefined && pos >= minBytes) {
    Deno.kill(pid, "SIGSTOP");
    Deno.exit(0);
  }
}
Deno.exit(3);
`;

/**
 * Watches a destination's staging folder, where a run writes each read of
 * the source before publishing it. Every staged file that grows past
 * `minBytes` is one read of the source (metadata is staged too, but is
 * far smaller), so `reads()` counts the tries a run made.
 */
export function watchStaging(dest: string, minBytes = MiB) {
  const folder = `${dest}/.tinybackup/tmp`;
  const largest = new Map<string, number>();
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      try {
        for await (const entry of Deno.readDir(folder)) {
          const size = (await Deno.stat(`${folder}/${entry.name}`).catch(() => undefined))?.size;
          if (size !== undefined && size > (largest.get(entry.name) ?? -1)) {
            largest.set(entry.name, size);
          }
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      await sleep(3);
    }
  })();
  const big = () => [...largest].filter(([, size]) => size >= minBytes).map(([name]) => name);
  return {
    /** Names of the staged reads seen so far, in the order first seen. */
    reads: big,
    /** Waits until `count` staged reads have been seen; fails if `running` ends first. */
    async waitForReads(count: number, running: Started, timeoutMs = 30_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (big().length < count) {
        assert.ok(!running.exited(), `tinybackup ended before read ${count} was seen`);
        assert.ok(Date.now() < deadline, `read ${count} was not seen within ${timeoutMs} ms`);
        await sleep(2);
      }
      return big()[count - 1];
    },
    /** Whether staged file `name` is still there. */
    async present(name: string): Promise<boolean> {
      return (await Deno.stat(`${folder}/${name}`).catch(() => undefined)) !== undefined;
    },
    async stop(): Promise<void> {
      stopped = true;
      await polling;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((wake) => setTimeout(wake, ms));
}

/** Bytes that do not compress, so reading them takes a while. */
export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
  }
  return bytes;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A backup's content, read back with gunzip, zstd -d, or as it is. */
export async function decompressed(path: string): Promise<Uint8Array> {
  if (path.endsWith(".gz")) return await run("gunzip", ["-c", path]);
  if (path.endsWith(".zst")) return await run("zstd", ["-d", "-q", "-c", path]);
  return await Deno.readFile(path);
}

/** The metadata file of backup `path`, parsed as plain JSON. */
export async function readMetadata(path: string): Promise<Record<string, unknown>> {
  const slash = path.lastIndexOf("/");
  const file = `${path.slice(0, slash)}/.tinybackup/${path.slice(slash + 1)}.json`;
  return JSON.parse(await Deno.readTextFile(file));
}

/**
 * Asserts a run failed the way tinybackup promises: exit 1 or 2, nothing on
 * stdout, exactly one `tinybackup: error:` line, and only `tinybackup:`
 * lines (so no stack trace).
 */
export function assertCleanFailure(r: Run): void {
  assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.filter((l) => l.startsWith("tinybackup: error: ")).length, 1, r.stderr);
  for (const line of lines) assert.match(line, /^tinybackup: /, r.stderr);
}
