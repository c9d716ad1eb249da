/**
 * What at(1) is told and what it prints, on Debian/Ubuntu (at 3.x), older
 * Red Hat, macOS and FreeBSD (see shared/AT_FORMATS.md). Pure, and tested on
 * fixtures of each. tinybackup keeps its own next-run time in the job, so
 * from at it needs little more than job numbers.
 */

/**
 * A moment for `at -t`: `CCYYMMDDhhmm` in UTC, for an at that runs with
 * TZ=UTC0. Local time would be ambiguous in the hour that repeats when
 * clocks go back, and at's idea of the local zone can differ from ours.
 */
export function formatAtTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${
    two(date.getUTCHours())
  }${two(date.getUTCMinutes())}`;
}

/**
 * The job number in what `at` prints when it queues a job: `job 2 at ...`
 * (Linux) or `Job 5 will be executed using /bin/sh` (BSD, macOS).
 */
export function parseSubmitted(output: string): number | undefined {
  const match = /^job (\d+) /im.exec(output);
  return match ? Number(match[1]) : undefined;
}

/** One queued job as atq shows it. */
export interface AtqEntry {
  number: number;
  /** When the job is due, in local time, when the date could be read. */
  due?: Date;
  /** The queue letter, where shown; `=` for a job running now (Linux `=`, BSD `(done)`). */
  queue?: string;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Parses atq's output. FreeBSD and macOS as root print a header and put the
 * job number last; Linux (and plain macOS atq) put it first.
 */
export function parseAtq(output: string): AtqEntry[] {
  const lines = output.split("\n").filter((line) => line.trim() !== "");
  if (lines.length > 0 && /^Date\s+Owner\s+Queue\s+Job#/.test(lines[0])) {
    return lines.slice(1).flatMap((line) => parseBsdLine(line) ?? []);
  }
  return lines.flatMap((line) => parseLinuxLine(line) ?? []);
}

/** `2\tTue Dec  1 02:00:00 2026 z root`, `2\t2010-11-15 10:53 a root`, or `1\tFri Sep 16 11:24:00 2022`. */
function parseLinuxLine(line: string): AtqEntry | undefined {
  const match = /^(\d+)\t(.*)$/.exec(line);
  if (!match) return undefined;
  const rest = match[2];
  const ctime = /^\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d{4})(?: (\S) )?/.exec(rest);
  if (ctime) {
    return {
      number: Number(match[1]),
      due: localDate(ctime[6], ctime[1], ctime[2], ctime[3], ctime[4], ctime[5]),
      queue: ctime[7],
    };
  }
  const iso = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)(?: (\S) )?/.exec(rest);
  if (iso) {
    return {
      number: Number(match[1]),
      due: new Date(+iso[1], +iso[2] - 1, +iso[3], +iso[4], +iso[5]),
      queue: iso[6],
    };
  }
  return { number: Number(match[1]) };
}

/** `Sat Sep 12 16:05:00 CEST 2026\ted              a\t5` (`a(done)` for a job already run). */
function parseBsdLine(line: string): AtqEntry | undefined {
  const fields = line.split("\t");
  const number = /^\d+$/.test(fields.at(-1)?.trim() ?? "") ? Number(fields.at(-1)) : undefined;
  if (number === undefined) return undefined;
  const date = /^\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (?:\S+ )?(\d{4})$/.exec(fields[0]);
  const middle = fields.slice(1, -1).join("\t");
  // "(done)" marks a job atrun has started: running, as Linux's "=" queue says.
  const queue = middle.includes("(done)") ? "=" : /^\S+\s+(\S)/.exec(middle)?.[1];
  return {
    number,
    due: date ? localDate(date[6], date[1], date[2], date[3], date[4], date[5]) : undefined,
    queue,
  };
}

function localDate(
  year: string,
  month: string,
  day: string,
  hour: string,
  minute: string,
  second: string,
): Date | undefined {
  const monthIndex = MONTHS.indexOf(month);
  if (monthIndex < 0) return undefined;
  return new Date(+year, monthIndex, +day, +hour, +minute, +second);
}

/** The user a job belongs to, from the `# atrun uid=N` line that every at puts in its scripts. */
export function parseScriptUid(script: string): number | undefined {
  const match = /^# atrun uid=(\d+)/m.exec(script);
  return match ? Number(match[1]) : undefined;
}
