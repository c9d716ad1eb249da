/**
 * Runs lib/schedule/run_log.ts's I/O for run_log_test.ts in a child process,
 * whose XDG_STATE_HOME the test sets (Deno.env is shared by every test file
 * in a run, so the test does not change its own). Not a test file itself.
 *
 *   append JSON        appends the record
 *   append-many ID N   appends N records for job ID, one at a time
 *   read               prints readRuns() as JSON
 */
import { appendRun, readRuns, type RunRecord } from "../../lib/schedule/run_log.ts";

const [action, ...args] = Deno.args;
if (action === "append") {
  await appendRun(JSON.parse(args[0]) as RunRecord);
} else if (action === "append-many") {
  const [id, count] = args;
  for (let i = 0; i < Number(count); i++) {
    await appendRun({
      time: new Date().toISOString(),
      id,
      result: "ok",
      message: `run ${i} of ${id} ${"x".repeat(200)}`,
    });
  }
} else if (action === "read") {
  console.log(JSON.stringify(await readRuns()));
} else {
  console.error(`unknown action: ${action}`);
  Deno.exit(2);
}
