/**
 * Running contenders and timing them: wall-clock seconds from spawn to exit,
 * as a user waiting at the shell sees it, start-up included.
 */

/** One command being compared, with what it needs around each run. */
export interface Contender {
  /** As shown in the tables, e.g. `gzip -6 -c`. */
  label: string;
  /** The command line, program first. */
  command: string[];
  /** Prepares one run, e.g. makes an empty output folder. Not timed. */
  before?: () => Promise<void>;
  /** Cleans up after one run; returns the size of what the run wrote, if that matters. Not timed. */
  after?: () => Promise<number | undefined>;
  /** Why this contender cannot run here (e.g. a tool is not installed); it is then skipped. */
  missing?: string;
}

/** What the runs of one contender measured. */
export interface Timing {
  label: string;
  /** Wall-clock seconds of each timed run. */
  seconds: number[];
  /** Bytes of output of the last run, when the contender reports it. */
  outputBytes?: number;
  missing?: string;
}

/** Runs `command` once; returns its wall-clock seconds, or throws with its stderr if it fails. */
export async function timeOnce(command: string[]): Promise<number> {
  const [program, ...args] = command;
  const started = performance.now();
  // stdout goes nowhere, as with `> /dev/null`; stderr is kept to explain a failure.
  const { code, stderr } = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    throw new Error(
      `'${command.join(" ")}' exited with ${code}: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
  return seconds;
}

/**
 * Runs each contender `repeat` times, round-robin: every repetition runs each
 * contender once, so a slow drift of the machine (heat, other load, page
 * cache) touches all contenders alike instead of whichever ran last.
 * With `warmup`, one untimed round first fills caches (Deno's module cache,
 * the page cache) for everyone.
 */
export async function roundRobin(
  contenders: Contender[],
  repeat: number,
  warmup = false,
): Promise<Timing[]> {
  const timings: Timing[] = contenders.map((c) => ({
    label: c.label,
    seconds: [],
    missing: c.missing,
  }));
  const runnable = contenders.filter((c) => !c.missing);
  for (let round = warmup ? -1 : 0; round < repeat; round++) {
    for (let i = 0; i < runnable.length; i++) {
      // Who goes first rotates, so no contender always runs right after the same other one.
      const contender = runnable[(i + Math.max(round, 0)) % runnable.length];
      await contender.before?.();
      const seconds = await timeOnce(contender.command);
      const outputBytes = await contender.after?.();
      if (round < 0) continue;
      const timing = timings[contenders.indexOf(contender)];
      timing.seconds.push(seconds);
      if (outputBytes !== undefined) timing.outputBytes = outputBytes;
    }
  }
  return timings;
}

/** The median; the mean of the middle two for an even count. NaN for none. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** How peak memory is measured, for the report. */
export const PEAK_MEMORY_METHOD =
  "maximum resident set size of the child process as the kernel accounts it (rusage ru_maxrss " +
  "from wait4), read with `/usr/bin/time -f %M` (GNU time; `-l` on macOS)";

/**
 * Runs `command` under /usr/bin/time and returns its peak resident memory in
 * KiB. The kernel keeps the maximum for each process, so nothing is sampled
 * and no short peak is missed.
 */
export async function peakMemoryKiB(command: string[], reportFile: string): Promise<number> {
  // GNU time prints KiB for %M; BSD time (macOS) has no -f and prints bytes with -l.
  const darwin = Deno.build.os === "darwin";
  const timeArgs = darwin ? ["-l", "-o", reportFile] : ["-f", "%M", "-o", reportFile];
  await timeOnce(["/usr/bin/time", ...timeArgs, ...command]);
  const report = await Deno.readTextFile(reportFile);
  const value = darwin
    ? Number(/(\d+)\s+maximum resident set size/.exec(report)?.[1]) / 1024
    : Number(report.trim().split("\n").pop());
  if (!Number.isFinite(value)) throw new Error(`cannot read peak memory from: ${report}`);
  return value;
}

/** Whether `program` can be run here (found on PATH, or an existing path). */
export async function hasProgram(program: string): Promise<boolean> {
  const { code } = await new Deno.Command("sh", {
    args: ["-c", 'command -v "$1" >/dev/null', "sh", program],
  }).output();
  return code === 0;
}
