/**
 * Checks that depend on the local time zone run in a child process with TZ
 * set: a script (`_*_tz.ts`, which the test runner does not pick up) lists
 * its checks per zone and calls runChecks; a test calls assertChecksPass.
 * Expected times in such checks are UTC instants, so a check cannot pass by
 * getting local time wrong the same way on both sides.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

export type Checks = Record<string, [name: string, check: () => void][]>;

/**
 * In the child: runs every check for the zone named by the first argument,
 * prints the failures on stderr and exits 1 if there were any, else prints
 * `N checks passed in ZONE`. Exits 2 when TZ does not match the zone.
 */
export function runChecks(checks: Checks): void {
  const zone = Deno.args[0];
  const actual = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (actual !== zone) {
    console.error(`expected to run in time zone ${zone}, but runs in ${actual}: set TZ`);
    Deno.exit(2);
  }
  const selected = checks[zone];
  if (!selected) {
    console.error(`no checks for time zone ${zone}`);
    Deno.exit(2);
  }
  const failures: string[] = [];
  for (const [name, check] of selected) {
    try {
      check();
    } catch (error) {
      failures.push(`${zone}: ${name}\n${error instanceof Error ? error.message : error}`);
    }
  }
  if (failures.length > 0) {
    console.error(failures.join("\n\n"));
    Deno.exit(1);
  }
  console.log(`${selected.length} checks passed in ${zone}`);
}

/** In the test: runs `script` with TZ=zone and asserts that all its checks for the zone passed. */
export async function assertChecksPass(script: URL, zone: string, atLeast: number): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", fileURLToPath(script), zone],
    env: { TZ: zone },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const out = decoder.decode(stdout) + decoder.decode(stderr);
  assert.equal(code, 0, `${fileURLToPath(script)} failed in ${zone}:\n${out}`);
  const passed = Number(/^(\d+) checks passed in /m.exec(out)?.[1] ?? 0);
  assert.ok(passed >= atLeast, `expected at least ${atLeast} checks to pass in ${zone}:\n${out}`);
}
