/**
 * Talking to at(1): queue a script, list the queue, read a job, remove one.
 * Every job goes to tinybackup's own queue letter (z by default: later
 * letters run with more niceness, which suits backups).
 */
import { setVariables } from "../io/set_variables.ts";
import { RunError, UsageError } from "../errors.ts";
import { type AtqEntry, formatAtTime, parseAtq, parseSubmitted } from "./at_format.ts";
import { quoteForSh } from "./quote.ts";

/** The queue letter; TINYBACKUP_AT_QUEUE picks another (a–z, A–Z). */
function atQueue(): string {
  const queue = Deno.env.get("TINYBACKUP_AT_QUEUE") ?? "z";
  if (!/^[a-zA-Z]$/.test(queue)) {
    throw new UsageError(`TINYBACKUP_AT_QUEUE must be one letter, a-z or A-Z (got '${queue}')`);
  }
  return queue;
}

/**
 * The environment at(1) stores with a job, which the job runs with. at keeps
 * the whole environment of whoever queues a job, secrets included, in its
 * spool; only what a backup run needs is passed on.
 */
const KEPT_ENVIRONMENT = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "LC_ALL",
  "TZ",
  "XDG_STATE_HOME",
  "DENO_DIR",
  "TINYBACKUP_AT_QUEUE",
  // Where an S3 destination's keys are, never the keys themselves (see aws_config.ts).
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_S3",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  // Where an FTP destination's password and extra trusted certificates are.
  "NETRC",
  "SSL_CERT_FILE",
];

/** The environment a job runs with (TZ given apart: see userTimeZoneLine). */
export function jobEnvironment(timeZone?: string): Record<string, string> {
  const env = setVariables(KEPT_ENVIRONMENT);
  if (timeZone !== undefined) env.TZ = timeZone;
  return env;
}

/**
 * The line that gives a job the user's own time zone back (at stores the
 * environment it ran with, which may be TZ=UTC0), so its next run follows
 * the user's local calendar.
 */
function userTimeZoneLine(): string {
  const tz = Deno.env.get("TZ");
  return tz === undefined ? "unset TZ\n" : `TZ=${quoteForSh(tz)}; export TZ\n`;
}

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an at(1) program; fails with doctor's hint when at is not installed. */
async function runAt(
  program: string,
  args: string[],
  input?: string,
  timeZone?: string,
): Promise<Output> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      // Jobs start in the folder they were queued from; "/" never goes away.
      cwd: "/",
      clearEnv: true,
      env: jobEnvironment(timeZone),
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new RunError(
        `${program} is not installed, so jobs cannot be scheduled`,
        "run 'tinybackup doctor' to see how to set up at(1) here",
      );
    }
    throw error;
  }
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(input));
      await writer.close();
    } catch (error) {
      // at stops reading when it rejects the time; what it says comes below.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** What at said when it refused a job, without its notice about /bin/sh. */
function atComplaint(output: Output): string {
  return (output.stderr + output.stdout).split("\n")
    .filter((line) => line.trim() !== "" && !/executed using \/bin\/sh/.test(line))
    .join("; ");
}

/**
 * Queues `script` to run at `when`: a moment, or an at(1) time spec.
 * @returns the at job number
 * @throws {UsageError} when at rejects the time spec, with at's own message
 */
export async function submitJob(script: string, when: Date | string): Promise<number> {
  // A moment goes to at in UTC; a time spec is at's to read, in the user's zone.
  const output = when instanceof Date
    ? await runAt(
      "at",
      ["-q", atQueue(), "-t", formatAtTime(when)],
      userTimeZoneLine() + script,
      "UTC0",
    )
    : await runAt(
      "at",
      ["-q", atQueue(), "--", ...when.trim().split(/\s+/)],
      userTimeZoneLine() + script,
    );
  const number = parseSubmitted(output.stderr + output.stdout);
  if (output.code !== 0 || number === undefined) {
    const complaint = atComplaint(output) || `exit code ${output.code}`;
    if (typeof when === "string") {
      throw new UsageError(`at(1) rejected the time '${when}': ${complaint}`);
    }
    throw new RunError(`at(1) could not queue the job: ${complaint}`, "run 'tinybackup doctor'");
  }
  return number;
}

/** How often atq, `at -c` and atrm are run before a failure is believed. */
const SPOOL_RACE_ATTEMPTS = 8;

/** Whether at says it has no job by that number ("Cannot find jobid N"). */
function saysNoSuchJob(output: Output): boolean {
  return /cannot find job/i.test(atComplaint(output));
}

/**
 * Runs atq, `at -c` or atrm, again after a pause while it fails, a few times;
 * never a submission, which a retry could queue twice. Debian's at 3.2.5
 * stats every file in the spool and gives up ("Cannot stat in
 * /var/spool/cron/atjobs") when another atrm removes one under it, sometimes
 * after printing part of its answer or removing its own job. "No such job" is
 * an answer, never retried.
 */
async function runAtAnswered(program: "at" | "atq" | "atrm", args: string[]): Promise<Output> {
  for (let attempt = 1;; attempt++) {
    const output = await runAt(program, args);
    if (output.code === 0 || saysNoSuchJob(output) || attempt === SPOOL_RACE_ATTEMPTS) {
      return output;
    }
    // Random pauses, or commands that failed together would retry together.
    await new Promise((wake) => setTimeout(wake, (25 + 50 * Math.random()) * attempt));
  }
}

/** The lines atq prints for `queue`. */
async function atq(queue: string): Promise<string> {
  const output = await runAtAnswered("atq", ["-q", queue]);
  if (output.code !== 0) {
    throw new RunError(`atq failed: ${atComplaint(output)}`, "run 'tinybackup doctor'");
  }
  return output.stdout;
}

/** The jobs in tinybackup's queue, and (queue `=`) jobs running now. */
export async function listQueue(): Promise<AtqEntry[]> {
  const queued = parseAtq(await atq(atQueue()));
  // Linux moves a running job to queue "="; elsewhere atq has no such queue.
  if (Deno.build.os !== "linux") return queued;
  return [...queued, ...parseAtq(await atq("=")).map((e) => ({ ...e, queue: "=" }))];
}

/**
 * The script of job `number` (`at -c`), or undefined when at says it has no
 * such job.
 * @throws {RunError} when `at -c` keeps failing for another reason
 */
export async function readJob(number: number): Promise<string | undefined> {
  const output = await runAtAnswered("at", ["-c", String(number)]);
  if (output.code === 0) return output.stdout;
  if (saysNoSuchJob(output)) return undefined;
  throw new RunError(
    `at -c ${number} failed: ${atComplaint(output)}`,
    "run 'tinybackup doctor'",
  );
}

/**
 * Removes job `number`; one that is gone already is no error. (Nor can it be
 * told apart reliably: a failed atrm may have removed its job before giving
 * up on the rest of the spool, and the next one finds no such job.)
 * @throws {RunError} when atrm keeps failing for another reason
 */
export async function removeJob(number: number): Promise<void> {
  const removal = await runAtAnswered("atrm", [String(number)]);
  if (removal.code === 0 || saysNoSuchJob(removal)) return;
  throw new RunError(
    `atrm could not remove at job ${number}: ${atComplaint(removal)}`,
    "run 'tinybackup doctor', then 'tinybackup unschedule' again",
  );
}
