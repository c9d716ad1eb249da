/** `tinybackup log [ID]`: the history of scheduled runs, oldest first. */
import { UsageError } from "../errors.ts";
import { readRuns } from "../schedule/run_log.ts";
import { parseLogArgs } from "./args.ts";
import { localTime } from "./format.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printJson, printResult } from "./output.ts";

export async function logCommand(argv: string[]): Promise<void> {
  const args = parseLogArgs(argv);
  if (args.help) return printHelp(helpFor("log"));
  if (args.id !== undefined && !/^[0-9a-f]{8}$/.test(args.id)) {
    throw new UsageError(
      `'${args.id}' is not a job id`,
      "job ids are 8 hex digits; see 'tinybackup jobs'",
    );
  }
  const records = (await readRuns()).filter((r) => args.id === undefined || r.id === args.id);
  if (args.json) return printJson(records);
  for (const r of records) {
    printResult(`${localTime(new Date(r.time))}  ${r.id}  ${r.result.padEnd(9)}  ${r.message}`);
  }
  if (records.length === 0) new Messages().note("no scheduled runs logged yet");
}
