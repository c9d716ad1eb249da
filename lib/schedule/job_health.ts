/** What stands in a queued job's way: a missing program or source. */
import { leadingProgram, shellFinds } from "../sources/command_source.ts";
import { programsNeeded, sourcePath } from "../sources/source_spec.ts";
import { commandFiles, type Job } from "./job.ts";

/** Problems that will make the job's next run fail or stop, in words; empty when none. */
export async function jobProblems(job: Job): Promise<string[]> {
  const problems: string[] = [];
  for (const file of commandFiles(job)) {
    if (!(await exists(file))) problems.push(`the program it runs is gone: ${file}`);
  }
  if (job.source.kind === "command") {
    const program = leadingProgram(job.source.command);
    if (program !== undefined && !(await shellFinds(program))) {
      problems.push(`the command's program is gone: ${program}`);
    }
  }
  for (const need of programsNeeded(job.source)) {
    const found = await Promise.all(need.anyOf.map(shellFinds));
    if (!found.includes(true)) {
      problems.push(
        `${
          need.anyOf.join(" or ")
        } is not installed, and the job's source needs it (Debian: apt-get install ${need.package})`,
      );
    }
  }
  const path = sourcePath(job.source);
  if (path !== undefined && !(await exists(path))) {
    problems.push(
      job.stopIfMissing
        ? `the source is gone, so the job will stop: ${path}`
        : `the source is gone: ${path}`,
    );
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
