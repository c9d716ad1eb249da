/**
 * A scheduled job: its settings, and the at(1) script that carries them. The
 * script holds one marker line with the settings as JSON, so tinybackup finds
 * its jobs by reading the queue (`at -c`), with no index of its own, and one
 * command that runs this same program with the same settings.
 */
import { type Compression, COMPRESSIONS, seriesNameProblem } from "../backup/naming.ts";
import { parseDuration } from "./duration.ts";
import { anchorFor, nextRunAfter, parseTimeOfDay } from "./next_run.ts";
import { escapeForTerminal } from "../terminal_text.ts";
import { quoteForSh } from "./quote.ts";
import { isSourceSpec, sameSpec, type SourceSpec } from "../sources/source_spec.ts";
import { isRemoteUrl } from "../stores/remote_url.ts";
import { createHash } from "node:crypto";
import { CALENDAR_RULES, keepLast, type Retention } from "../backup/retention.ts";
import { type EncryptionSpec, isEncryptionSpec } from "../backup/backup_encryption.ts";

export type JobSchedule =
  | {
    kind: "every";
    /** As the user wrote it, e.g. `6h` or `1d`. */
    every: string;
    everyMinutes: number;
    /** `HH:MM` local time, for whole-day intervals. */
    at?: string;
    /** The first slot of the schedule's grid, ISO 8601. */
    anchor: string;
  }
  | {
    kind: "time";
    /** An at(1) time spec, applied again after each run. */
    spec: string;
  };

export interface Job {
  /** Stable for the job's whole life, across every run. */
  id: string;
  /** Series name. */
  name: string;
  /** What to back up, paths absolute. */
  source: SourceSpec;
  /** Absolute path of the destination, or its sftp:// URL. */
  dest: string;
  /** For an sftp:// destination: the ssh config file to use (ssh -F), absolute. */
  destSshConfig?: string;
  retention: Retention;
  compression: Compression;
  /** Whom the backups are encrypted for (key files are read at each run); absent for none. */
  encryption?: EncryptionSpec;
  schedule: JobSchedule;
  /** Runs still to come, counting the queued one; null for no limit. */
  runsLeft: number | null;
  /** Stop the job, instead of failing at each run, once the file is gone. */
  stopIfMissing: boolean;
  /** When the queued run is due, ISO 8601; null when at(1) decides (time specs). */
  next: string | null;
  /** The command that runs this program (see selfCommand), absolute paths. */
  command: string[];
  /**
   * For a backup of a config file: the file (absolute) and the backup's
   * name in it. Each run reads the file again; the fields above are what it
   * said when the job was scheduled, for jobs and doctor to show.
   */
  config?: { path: string; backup: string };
}

const MARKER = "# tinybackup-job ";

/** A fresh job id: eight lowercase hex digits. */
export function newJobId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 8);
}

/**
 * The id of the job of backup `backup` in the config file `path`: the same
 * each time the file is scheduled, so `schedule` finds its own jobs again.
 */
export function configJobId(path: string, backup: string): string {
  return createHash("sha256").update(`${path}\0${backup}`).digest("hex").slice(0, 8);
}

/** What a new job is made from. */
export interface JobSettings {
  name: string;
  source: SourceSpec;
  dest: string;
  destSshConfig?: string;
  retention: Retention;
  compression: Compression;
  encryption?: EncryptionSpec;
  every?: { text: string; minutes: number };
  at?: string;
  time?: string;
  runs: number | null;
  stopIfMissing: boolean;
  command: string[];
  config?: { path: string; backup: string };
}

/** A new job, scheduled at `now`, with its first run queued for the next slot. */
export function newJob(settings: JobSettings, now: Date, id = newJobId()): Job {
  const schedule: JobSchedule = settings.time !== undefined
    ? { kind: "time", spec: settings.time }
    : {
      kind: "every",
      every: settings.every!.text,
      everyMinutes: settings.every!.minutes,
      at: settings.at,
      anchor: anchorFor(now, settings.at ? parseTimeOfDay(settings.at) : undefined).toISOString(),
    };
  return {
    id,
    name: settings.name,
    source: settings.source,
    dest: settings.dest,
    ...(settings.destSshConfig === undefined ? {} : { destSshConfig: settings.destSshConfig }),
    retention: settings.retention,
    compression: settings.compression,
    ...(settings.encryption ? { encryption: settings.encryption } : {}),
    schedule,
    runsLeft: settings.runs,
    stopIfMissing: settings.stopIfMissing,
    next: schedule.kind === "every" ? nextRunAfter(schedule, now).toISOString() : null,
    command: settings.command,
    ...(settings.config ? { config: settings.config } : {}),
  };
}

/**
 * The job to queue when `job` runs at `now`: the same job, one run fewer,
 * due at the first slot after now. Undefined when this run is the last.
 */
export function successor(job: Job, now: Date): Job | undefined {
  if (job.runsLeft === 1) return undefined;
  return {
    ...job,
    runsLeft: job.runsLeft === null ? null : job.runsLeft - 1,
    next: job.schedule.kind === "every" ? nextRunAfter(job.schedule, now).toISOString() : null,
  };
}

/**
 * The text given to at(1): the marker line, a check that the program is
 * still there (if not, the run says so in `runLog`, the run log's path, and
 * on stderr, since it cannot run to say it itself), and the command.
 */
export function jobScript(job: Job, runLog: string): string {
  // JSON.stringify escapes newlines, so the marker stays one line whatever the paths hold.
  const json = JSON.stringify(job);
  const command = [...job.command, "run-job", json];
  const files = commandFiles(job);
  const missing = files.map((file, i) => `[ ! ${i === 0 ? "-x" : "-f"} ${quoteForSh(file)} ]`);
  const gone = `the program it runs is gone: ${files.join(" or ")}`;
  // A run-log record, with the time filled in by date(1) when the check fails.
  const before = '{"time":"';
  const after = '",' + JSON.stringify({ id: job.id, result: "failed", message: gone }).slice(1);
  return [
    `${MARKER}${json}`,
    `if ${missing.join(" || ")}; then`,
    `  printf '%s%s%s\\n' ${quoteForSh(before)} "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" ${
      quoteForSh(after)
    } >> ${quoteForSh(runLog)}`,
    // What at(1) mails is read on a terminal: escaped as every message is (the log keeps it exact).
    `  printf '%s\\n' ${
      quoteForSh(escapeForTerminal(`tinybackup: error: job ${job.id}: ${gone}`))
    } >&2`,
    "  exit 1",
    "fi",
    `exec ${command.map(quoteForSh).join(" ")}`,
    "",
  ].join("\n");
}

/** The job in a script printed by `at -c`, or undefined when it is not a tinybackup job. */
export function parseJobScript(script: string): Job | undefined {
  const line = script.split("\n").find((l) => l.startsWith(MARKER));
  if (!line) return undefined;
  try {
    return parseJob(line.slice(MARKER.length));
  } catch {
    return undefined;
  }
}

/**
 * Parses and checks a job's JSON.
 * @throws {Error} when it is not a complete, valid job
 */
export function parseJob(text: string): Job {
  const job = withRetention(withSource(JSON.parse(text))) as Job;
  const s = job?.schedule;
  const valid = typeof job === "object" && job !== null &&
    typeof job.id === "string" && /^[0-9a-f]{8}$/.test(job.id) &&
    typeof job.name === "string" && !seriesNameProblem(job.name) &&
    isSourceSpec(job.source) &&
    typeof job.dest === "string" && (job.dest.startsWith("/") || isRemoteUrl(job.dest)) &&
    (job.destSshConfig === undefined ||
      (typeof job.destSshConfig === "string" && job.destSshConfig.startsWith("/"))) &&
    isRetention(job.retention) &&
    COMPRESSIONS.includes(job.compression) &&
    (job.encryption === undefined || isEncryptionSpec(job.encryption)) &&
    (job.runsLeft === null || (Number.isSafeInteger(job.runsLeft) && job.runsLeft >= 1)) &&
    typeof job.stopIfMissing === "boolean" &&
    (job.next === null || typeof job.next === "string") &&
    Array.isArray(job.command) && job.command.length > 0 &&
    job.command.every((part) => typeof part === "string") && job.command[0].startsWith("/") &&
    (job.config === undefined ||
      (typeof job.config === "object" && job.config !== null &&
        typeof job.config.path === "string" && job.config.path.startsWith("/") &&
        typeof job.config.backup === "string" && job.config.backup !== "")) &&
    typeof s === "object" && s !== null &&
    (s.kind === "time"
      ? typeof s.spec === "string" && s.spec.trim() !== ""
      : s.kind === "every" && Number.isSafeInteger(s.everyMinutes) && s.everyMinutes >= 1 &&
        typeof s.every === "string" && parseDuration(s.every) === s.everyMinutes &&
        (s.at === undefined || parseTimeOfDay(s.at) !== undefined) &&
        typeof s.anchor === "string" && !Number.isNaN(Date.parse(s.anchor)));
  if (!valid) throw new Error("not a valid tinybackup job");
  return job;
}

/**
 * A job queued before jobs had sources of several kinds names its file in
 * `file`: such a job keeps running after an upgrade, as a file job.
 */
function withSource(value: unknown): unknown {
  const job = value as Record<string, unknown>;
  if (typeof job !== "object" || job === null || job.source !== undefined) return value;
  if (typeof job.file !== "string") return value;
  const { file, ...rest } = job;
  return { ...rest, source: { kind: "file", path: file } };
}

/** A job queued before calendar retention keeps `keep: N`: the same policy, last N. */
function withRetention(value: unknown): unknown {
  const job = value as Record<string, unknown>;
  if (typeof job !== "object" || job === null || job.retention !== undefined) return value;
  if (!Number.isSafeInteger(job.keep)) return value;
  const { keep, ...rest } = job;
  return { ...rest, retention: keepLast(keep as number) };
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isRetention(value: unknown): value is Retention {
  const r = value as Retention;
  const w = r?.within;
  return typeof r === "object" && r !== null && isCount(r.last) &&
    CALENDAR_RULES.every((rule) => isCount(r[rule])) &&
    (w === undefined ||
      (typeof w === "object" && w !== null && isCount(w.years) && isCount(w.months) &&
        isCount(w.days) && isCount(w.hours)));
}

/** The schedule in words: `every 6h`, `every 1d at 02:00`, `at 'now + 1 hour'`. */
export function describeSchedule(schedule: JobSchedule): string {
  if (schedule.kind === "time") return `at '${schedule.spec}'`;
  return `every ${schedule.every}${schedule.at ? ` at ${schedule.at}` : ""}`;
}

/** The files a job's command needs: its absolute paths (the program, and from source the script and config). */
export function commandFiles(job: Job): string[] {
  return job.command.filter((part) => part.startsWith("/"));
}

/** Whether two jobs back up the same source to the same place on the same schedule. */
export function sameJob(a: Job, b: Job): boolean {
  return sameSpec(a.source, b.source) && a.dest === b.dest &&
    a.destSshConfig === b.destSshConfig && a.name === b.name &&
    scheduleKey(a.schedule) === scheduleKey(b.schedule);
}

/** Whether two jobs run on the same schedule (`24h` and `1d` are the same). */
export function sameSchedule(a: Job, b: Job): boolean {
  return scheduleKey(a.schedule) === scheduleKey(b.schedule);
}

/** A schedule by what it does, so `24h` and `1d` are the same. */
function scheduleKey(schedule: JobSchedule): string {
  return schedule.kind === "time"
    ? `time ${schedule.spec.trim().split(/\s+/).join(" ")}`
    : `every ${schedule.everyMinutes} at ${schedule.at ?? ""}`;
}
