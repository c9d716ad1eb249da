/** What stands in a queued job's way: a missing program or source, a destination out of reach, a config file that changed. */
import { leadingProgram } from "../sources/command_source.ts";
import { shellFinds } from "../sources/program_host.ts";
import { describeHost } from "../ssh/ssh_host.ts";
import { programsNeeded, sourceHost, sourcePath } from "../sources/source_spec.ts";
import { RunError, UsageError } from "../errors.ts";
import { jobEnvironment } from "./at.ts";
import { isRemoteUrl } from "../stores/remote_url.ts";
import { commandFiles, type Job } from "./job.ts";

/** Problems that will make the job's next run fail or stop, in words; empty when none. */
export async function jobProblems(job: Job): Promise<string[]> {
  return (await jobProblemsAndFixes(job)).map((p) => p.problem);
}

/** A problem of a job, and how to fix it where that is known. */
export interface JobProblem {
  problem: string;
  fix?: string;
}

/** Whether the program the job runs (tinybackup itself) is gone: the job must be queued anew. */
export async function programGone(job: Job): Promise<boolean> {
  for (const file of commandFiles(job)) if (!(await exists(file))) return true;
  return false;
}

/** The same, each with its fix where one is known (for doctor). */
export async function jobProblemsAndFixes(job: Job): Promise<JobProblem[]> {
  const problems: JobProblem[] = [];
  for (const file of commandFiles(job)) {
    if (!(await exists(file))) problems.push({ problem: `the program it runs is gone: ${file}` });
  }
  // A config job's next run does what the file says then: that is what is checked.
  const current = job.config ? await asConfigSays(job) : { job, dests: [job] };
  if ("problem" in current) return [...problems, current];
  job = current.job;
  const host = sourceHost(job.source);
  if (host && !(await shellFinds("ssh"))) {
    problems.push({
      problem: "ssh is not installed, and the job's source is on another host",
      fix: "install it (Debian: apt-get install openssh-client)",
    });
  } else {
    try {
      const missing = await missingPrograms(job);
      problems.push(...missing.map((problem) => ({ problem })));
      // On another host, the checks a run makes before it writes: GNU tar, the folder, the database.
      if (host && missing.length === 0) await openRemoteSource(job);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push({ problem: error.message, fix: error.hint }); // ssh cannot reach the host
    }
  }
  for (const { dest, destSshConfig } of current.dests) {
    if (!isRemoteUrl(dest)) continue;
    const problem = await destinationProblem(dest, destSshConfig);
    if (problem) {
      problems.push({
        ...problem,
        problem: `its destination${current.dests.length > 1 ? ` ${dest}` : ""}: ${problem.problem}`,
      });
    }
  }
  const path = sourcePath(job.source);
  if (path !== undefined && !(await exists(path))) {
    problems.push({
      problem: job.stopIfMissing
        ? `the source is gone, so the job will stop: ${path}`
        : `the source is gone: ${path}`,
    });
  }
  return problems;
}

/**
 * A config job as its next run will find the file: read with the
 * environment the job has, its backup's settings and every destination; or
 * what will make that run stop or fail before it starts.
 */
async function asConfigSays(
  job: Job,
): Promise<JobProblem | { job: Job; dests: Pick<Job, "dest" | "destSshConfig">[] }> {
  const { path, backup: name } = job.config!;
  if (!(await exists(path))) {
    return {
      problem: `its config file is gone, so the job will stop: ${path}`,
      fix: "put the file back, or remove the job with 'tinybackup unschedule'",
    };
  }
  const [{ loadConfig }, { configJob }] = await Promise.all([
    import("../config/load_config.ts"),
    import("../cli/config_job.ts"),
  ]);
  const env = jobEnvironment();
  let config;
  try {
    config = await loadConfig(path, (variable) => env[variable]);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return {
      problem: `its config file has a mistake, so its next run will fail: ${error.message}`,
      fix: `run 'tinybackup config validate --config ${path}'`,
    };
  }
  const backup = config.backups.find((b) => b.name === name);
  if (!backup?.runs[0].schedule) {
    return {
      problem: `backup '${name}' is no longer ${
        backup ? "scheduled " : ""
      }in ${path}, so the job will stop`,
      fix: `run 'tinybackup schedule --config ${path}' to remove its job now`,
    };
  }
  const current = configJob(config, backup, new Date());
  // The database connection settings a run restores are the job's own (see runConfigJob).
  const source = "env" in current.source && "env" in job.source
    ? { ...current.source, env: job.source.env }
    : current.source;
  return {
    job: { ...current, source },
    dests: backup.runs.map((args) => ({
      dest: args.dest,
      ...(args.sshConfig !== undefined ? { destSshConfig: args.sshConfig } : {}),
    })),
  };
}

/**
 * Opens the job's source on its host as a run does, reading nothing of it.
 * @throws {UsageError} for what would make the run fail before it writes
 */
async function openRemoteSource(job: Job): Promise<void> {
  const { openSource } = await import("../sources/open_source.ts");
  await openSource(job.source, job.name, () => {
    throw new Error("a source on another host needs no scratch file to be opened");
  });
}

/**
 * What keeps a job's remote destination from taking a backup: the host
 * cannot be reached, refuses the login or its key, or the folder there is
 * not one. Nothing is written.
 */
async function destinationProblem(
  dest: string,
  sshConfig: string | undefined,
): Promise<JobProblem | undefined> {
  try {
    const { openDestination } = await import("../cli/destination.ts");
    // Tried once: a health check tells at once that the host is down.
    // With the environment the job runs with: the keys of an S3 destination are not in it.
    const store = await openDestination(dest, false, sshConfig, false, jobEnvironment());
    try {
      await store.list("");
    } finally {
      await store.close?.();
    }
    return undefined;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof RunError)) throw error;
    return { problem: error.message, fix: error.hint };
  }
}

/**
 * The programs the job's source runs that are not installed where it runs them.
 * @throws {UsageError} when the source's host cannot be reached over ssh
 */
async function missingPrograms(job: Job): Promise<string[]> {
  const host = sourceHost(job.source);
  const where = host ? ` on ${describeHost(host)}` : "";
  const problems = [];
  if (job.source.kind === "command") {
    const program = leadingProgram(job.source.command);
    if (program !== undefined && !(await shellFinds(program, host))) {
      problems.push(`the command's program is gone${where}: ${program}`);
    }
  }
  for (const need of programsNeeded(job.source)) {
    let found = false;
    for (const program of need.anyOf) found ||= await shellFinds(program, host);
    if (!found) {
      problems.push(
        `${
          need.anyOf.join(" or ")
        } is not installed${where}, and the job's source needs it (Debian: apt-get install ${need.package})`,
      );
    }
  }
  return problems;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
