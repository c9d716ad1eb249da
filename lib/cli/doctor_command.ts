/** `tinybackup doctor`: can scheduling work here, and what to do if not. */
import { RunError } from "../errors.ts";
import { runChecks } from "../schedule/doctor.ts";
import { parseDoctorArgs } from "./args.ts";
import { helpFor } from "./help.ts";
import { printHelp, printResult } from "./output.ts";

export async function doctorCommand(argv: string[]): Promise<void> {
  if (parseDoctorArgs(argv).help) return printHelp(helpFor("doctor"));
  const checks = await runChecks();
  for (const check of checks) {
    printResult(`${check.ok ? "ok     " : "problem"}  ${check.finding}`);
    if (check.fix) printResult(`         fix: ${check.fix}`);
  }
  const problems = checks.filter((c) => !c.ok).length;
  if (problems > 0) {
    throw new RunError(`${problems} problem(s): scheduled backups will not run here`);
  }
}
