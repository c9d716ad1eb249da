/**
 * tinybackup's entry point: picks the command, runs it, and turns its
 * outcome into an exit code (0 done, 1 failed, 2 bad usage or input).
 */
import { backupCommand } from "./lib/cli/backup_command.ts";
import { type CommandName, splitCommand } from "./lib/cli/args.ts";
import { listCommand } from "./lib/cli/list_command.ts";
import { printError, printResult } from "./lib/cli/output.ts";
import { pruneCommand } from "./lib/cli/prune_command.ts";
import { restoreCommand } from "./lib/cli/restore_command.ts";
import { verifyCommand } from "./lib/cli/verify_command.ts";
import { jobsCommand } from "./lib/cli/jobs_command.ts";
import { unscheduleCommand } from "./lib/cli/unschedule_command.ts";
import { doctorCommand } from "./lib/cli/doctor_command.ts";
import { logCommand } from "./lib/cli/log_command.ts";
import { runJobCommand } from "./lib/cli/run_job_command.ts";
import { exitCodeOf, RunError, UsageError } from "./lib/errors.ts";
import { VERSION } from "./lib/version.ts";

const COMMANDS: Record<CommandName, (args: string[]) => Promise<void>> = {
  backup: backupCommand,
  list: listCommand,
  restore: restoreCommand,
  verify: verifyCommand,
  prune: pruneCommand,
  jobs: jobsCommand,
  unschedule: unscheduleCommand,
  doctor: doctorCommand,
  log: logCommand,
  "run-job": runJobCommand,
};

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    printResult(`tinybackup ${VERSION}`);
    return 0;
  }
  try {
    const { command, args } = splitCommand(argv);
    await COMMANDS[command](args);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof RunError) {
      printError(error);
      return exitCodeOf(error);
    }
    return reportUnexpected(error);
  }
}

/** Failures the commands do not foresee: still one clear line, never a stack trace. */
function reportUnexpected(error: unknown): number {
  if (error instanceof Deno.errors.PermissionDenied) {
    printError(new RunError(`permission denied: ${error.message}`));
  } else if ((error as { code?: string }).code === "ENOSPC") {
    printError(
      new RunError(
        "the disk is full; nothing was left half-written and no backup was removed",
        "free some space and run again",
      ),
    );
  } else {
    printError(new RunError(error instanceof Error ? error.message : String(error)));
  }
  return 1;
}

Deno.exit(await main(Deno.args));
