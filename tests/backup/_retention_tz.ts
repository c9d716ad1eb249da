/**
 * The time-zone-dependent checks of lib/backup/retention.ts: calendar
 * buckets and --keep-within follow local time. Not a test file:
 * calendar_retention_test.ts runs it with TZ set (see tests/schedule/_tz.ts).
 */
import assert from "node:assert/strict";
import { keepLast, retentionPlan } from "../../lib/backup/retention.ts";
import { type Checks, runChecks } from "../schedule/_tz.ts";

/** Backups at these UTC instants, oldest first, each a version of its own. */
function series(...times: string[]) {
  return times.map((time, i) => ({
    id: time,
    metadata: { time, file: `n.${i}`, generation: i + 1, sha256: `v${i}` },
  }));
}

const kept = (plan: { kept: { backup: { id: string } }[] }) => plan.kept.map((k) => k.backup.id);
const NOW = new Date("2027-01-01T00:00:00Z");

const CHECKS: Checks = {
  "Pacific/Auckland": [
    ["daily buckets are local days: 23:30 and 00:30 local are two days, one UTC day", () => {
      const backups = series("2026-12-03T10:30:00.000Z", "2026-12-03T11:30:00.000Z");
      const plan = retentionPlan(backups, { ...keepLast(0), daily: 5 }, NOW);
      assert.deepEqual(kept(plan), ["2026-12-03T11:30:00.000Z", "2026-12-03T10:30:00.000Z"]);
      assert.deepEqual(plan.kept[1].reasons, ["daily"]);
    }],
    ["a local year begins at local midnight on 1 January", () => {
      // 2026-12-31T11:30Z is 1 January 2027, 00:30 in Auckland.
      const backups = series("2026-12-31T10:30:00.000Z", "2026-12-31T11:00:00.000Z");
      const plan = retentionPlan(backups, { ...keepLast(0), yearly: 1 }, NOW);
      assert.deepEqual(kept(plan), ["2026-12-31T11:00:00.000Z"]);
    }],
  ],
  "America/New_York": [
    ["--keep-within 1d goes back one local day: 23 hours across the spring change", () => {
      // Clocks go forward on 8 March 2026 at 02:00 (EST to EDT).
      const newest = "2026-03-08T16:00:00.000Z"; // 12:00 EDT
      const backups = series(
        "2026-03-07T16:30:00.000Z", // 11:30 EST, the day before: older than one local day
        "2026-03-07T17:30:00.000Z", // 12:30 EST: within
        newest,
      );
      const within = { years: 0, months: 0, days: 1, hours: 0 };
      const plan = retentionPlan(backups, { ...keepLast(0), within }, NOW);
      assert.deepEqual(kept(plan), [newest, "2026-03-07T17:30:00.000Z"]);
    }],
    ["weekly buckets are local ISO weeks: Sunday night local is not yet Monday", () => {
      // 2026-12-07T03:00Z is Sunday 6 December, 22:00 local: week 49, like Monday the 1st.
      const backups = series("2026-11-30T15:00:00.000Z", "2026-12-07T03:00:00.000Z");
      const plan = retentionPlan(backups, { ...keepLast(0), weekly: 1 }, NOW);
      assert.deepEqual(kept(plan), ["2026-12-07T03:00:00.000Z"]);
    }],
  ],
};

runChecks(CHECKS);
