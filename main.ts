/**
 * tinybackup's entry point: picks the command, runs it, and turns its
 * outcome into an exit code (0 done, 1 failed, 2 bad usage or input).
 */
import { type CommandName, splitCommand } from "./lib/cli/commands.ts";
import { printError, printResult } from "./lib/cli/output.ts";
import { exitCodeOf, RunError, UsageError } from "./lib/errors.ts";
import { closeStores } from "./lib/stores/open_stores.ts";
import { VERSION } from "./lib/version.ts";

type Command = (args: string[]) => Promise<void>;

/**
 * Each command is loaded only when it runs: loading every module up front
 * took two thirds of the start-up time. The paths are string literals, so
 * `deno compile` still finds and embeds every one of them.
 */
const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  backup: async () => (await import("./lib/cli/backup_command.ts")).backupCommand,
  run: async () => (await import("./lib/cli/run_command.ts")).runCommand,
  schedule: async () => (await import("./lib/cli/schedule_command.ts")).scheduleCommand,
  config: async () => (await import("./lib/cli/config_command.ts")).configCommand,
  list: async () => (await import("./lib/cli/list_command.ts")).listCommand,
  restore: async () => (await import("./lib/cli/restore_command.ts")).restoreCommand,
  verify: async () => (await import("./lib/cli/verify_command.ts")).verifyCommand,
  prune: async () => (await import("./lib/cli/prune_command.ts")).pruneCommand,
  jobs: async () => (await import("./lib/cli/jobs_command.ts")).jobsCommand,
  unschedule: async () => (await import("./lib/cli/unschedule_command.ts")).unscheduleCommand,
  doctor: async () => (await import("./lib/cli/doctor_command.ts")).doctorCommand,
  log: async () => (await import("./lib/cli/log_command.ts")).logCommand,
  key: async () => (await import("./lib/cli/key_command.ts")).keyCommand,
  "run-job": async () => (await import("./lib/cli/run_job_command.ts")).runJobCommand,
};

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    printResult(`tinybackup ${VERSION}`);
    return 0;
  }
  try {
    const { command, args } = splitCommand(argv);
    const run = await COMMANDS[command]();
    try {
      await run(args);
    } finally {
      await closeStores();
    }
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
