/**
 * Can scheduled jobs run here? Each check says what it found and, when it
 * is a problem, how to fix it on this system.
 */
import { join } from "node:path";
import { removeJob, submitJob } from "./at.ts";
import { jobProblemsAndFixes } from "./job_health.ts";
import { findJobs } from "./queue.ts";
import { ensureStateDir } from "./state.ts";

export interface Check {
  ok: boolean;
  /** What was found, in words. */
  finding: string;
  /** How to fix it, for a problem. */
  fix?: string;
}

const AT_PROGRAMS = ["at", "atq", "atrm"];

/** Runs every check, in order; later checks that need at(1) are skipped without it. */
export async function runChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  const missing = [];
  for (const program of AT_PROGRAMS) if (!(await onPath(program))) missing.push(program);
  if (missing.length > 0) {
    checks.push({
      ok: false,
      finding: `${missing.join(", ")} not found on PATH`,
      fix: installHint(),
    });
  } else {
    checks.push({ ok: true, finding: "at, atq and atrm are installed" });
  }
  checks.push(await daemonCheck());
  if (missing.length === 0) checks.push(await permissionCheck());
  checks.push(await stateCheck());
  if (missing.length === 0) {
    for (const queued of await findJobs().catch(() => [])) {
      const problems = await jobProblemsAndFixes(queued.job);
      const fixes = problems.flatMap((p) => p.fix ?? []);
      checks.push(
        problems.length === 0 ? { ok: true, finding: `job ${queued.job.id} can run` } : {
          ok: false,
          finding: `job ${queued.job.id}: ${problems.map((p) => p.problem).join("; ")}`,
          fix: fixes.length === problems.length
            ? fixes.join("; ")
            : `schedule it again from where the program and file now are, then 'tinybackup unschedule ${queued.job.id}'`,
        },
      );
    }
  }
  return checks;
}

async function onPath(program: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const info = await Deno.stat(join(dir, program)).catch(() => undefined);
    if (info?.isFile && (info.mode ?? 0o111) & 0o111) return true;
  }
  return false;
}

function installHint(): string {
  switch (Deno.build.os) {
    case "linux":
      return "install at: 'sudo apt-get install at' (Debian, Ubuntu), 'sudo dnf install at' (Fedora, RHEL), 'sudo pacman -S at' (Arch); then 'sudo systemctl enable --now atd'";
    case "darwin":
      return "at is part of macOS: check that /usr/bin is on PATH";
    default:
      return "at is part of the base system: check that /usr/bin is on PATH";
  }
}

/** Whether something will run queued jobs: atd on Linux, atrun on macOS and the BSDs. */
async function daemonCheck(): Promise<Check> {
  switch (Deno.build.os) {
    case "linux":
      return await linuxDaemonRunning() ? { ok: true, finding: "atd is running" } : {
        ok: false,
        finding: "atd is not running, so queued jobs will not run",
        fix: "'sudo systemctl enable --now atd' (or start 'atd' as root where there is no systemd)",
      };
    case "darwin":
      // launchctl cannot tell an ordinary user whether a system daemon is on.
      return {
        ok: true,
        finding: "on macOS, jobs run only when atrun is enabled (it is off by default); " +
          "if it is not: sudo launchctl load -w /System/Library/LaunchDaemons/com.apple.atrun.plist",
      };
    default:
      return await bsdAtrunScheduled() ? { ok: true, finding: "atrun is in /etc/crontab" } : {
        ok: false,
        finding: "no atrun line in /etc/crontab, so queued jobs will not run",
        fix: "add this line to /etc/crontab: '*/5 * * * * root /usr/libexec/atrun'",
      };
  }
}

/** atd writes its pid here and keeps a lock on the file while it runs. */
const ATD_PID_FILES = ["/run/atd.pid", "/var/run/atd.pid"];

async function linuxDaemonRunning(): Promise<boolean> {
  for (const file of ATD_PID_FILES) {
    const pid = (await Deno.readTextFile(file).catch(() => "")).trim();
    if (/^\d+$/.test(pid) && await processExists(Number(pid))) return true;
  }
  return false;
}

/**
 * Whether process `pid` exists, by `kill -0`. A process of another user (atd
 * runs as root) answers "not permitted", which still means it exists; /proc
 * mounted with hidepid would hide it altogether.
 */
async function processExists(pid: number): Promise<boolean> {
  try {
    const { code, stderr } = await new Deno.Command("kill", {
      args: ["-0", String(pid)],
      env: { LC_ALL: "C" },
      stdout: "null",
      stderr: "piped",
    }).output();
    return code === 0 || /not permitted/i.test(new TextDecoder().decode(stderr));
  } catch {
    return false;
  }
}

async function bsdAtrunScheduled(): Promise<boolean> {
  const crontab = await Deno.readTextFile("/etc/crontab").catch(() => "");
  return crontab.split("\n").some((line) => !line.trim().startsWith("#") && line.includes("atrun"));
}

/** The files that decide who may use at, wherever this system keeps them. */
const ACCESS_FILES = [
  "/etc/at.allow",
  "/etc/at.deny",
  "/etc/at/at.allow",
  "/etc/at/at.deny",
  "/var/at/at.allow",
  "/var/at/at.deny",
  "/usr/lib/cron/at.allow",
  "/usr/lib/cron/at.deny",
];

/** Queues a harmless job far in the future and removes it: the one sure test of at.allow and at.deny. */
async function permissionCheck(): Promise<Check> {
  const user = Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? "you";
  try {
    const far = new Date();
    far.setFullYear(far.getFullYear() + 5);
    const number = await submitJob("true\n", far);
    await removeJob(number);
    return { ok: true, finding: `at accepts jobs from ${user}` };
  } catch (error) {
    const present = [];
    for (const file of ACCESS_FILES) {
      if (await Deno.stat(file).catch(() => undefined)) present.push(file);
    }
    return {
      ok: false,
      finding: `at refuses jobs from ${user}: ${error instanceof Error ? error.message : error}`,
      fix: present.length > 0
        ? `an administrator can allow ${user} in ${
          present.join(" or ")
        } (at.allow lists who may; at.deny who may not)`
        : "check at's permissions with an administrator",
    };
  }
}

async function stateCheck(): Promise<Check> {
  try {
    const dir = await ensureStateDir();
    const probe = join(dir, `.doctor-${crypto.randomUUID()}`);
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
    return { ok: true, finding: `the run log can be written in ${dir}` };
  } catch (error) {
    return {
      ok: false,
      finding: `the run log cannot be written: ${error instanceof Error ? error.message : error}`,
      fix: "set XDG_STATE_HOME to a folder you can write to, or fix the folder's permissions",
    };
  }
}
