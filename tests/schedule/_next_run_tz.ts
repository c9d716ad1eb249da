/**
 * The time-zone-dependent checks of lib/schedule/next_run.ts: daily and weekly
 * schedules across daylight saving changes, in Europe/Berlin and
 * America/New_York. Not a test file: next_run_test.ts runs it in a child
 * process with TZ set, as `deno run _next_run_tz.ts ZONE` (see _tz.ts).
 */
import assert from "node:assert/strict";
import {
  anchorFor,
  type IntervalSchedule,
  nextRunAfter,
  parseTimeOfDay,
} from "../../lib/schedule/next_run.ts";
import { type Checks, runChecks } from "./_tz.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY_MINUTES = 24 * 60;

/** A local time in this process's zone; month is 1-12. */
function local(year: number, month: number, day: number, hour = 0, minute = 0, second = 0) {
  return new Date(year, month - 1, day, hour, minute, second);
}

/** A schedule made at `created` the way newJob makes one. */
function schedule(created: Date, everyMinutes: number, at?: string): IntervalSchedule {
  return {
    everyMinutes,
    anchor: anchorFor(created, at ? parseTimeOfDay(at) : undefined).toISOString(),
    at,
  };
}

/**
 * The next `count` runs of `s` the way a job meets them: the first after
 * `created`, then each computed when the previous one runs (`late` after its
 * slot, as a run that starts late or takes long computes its successor).
 */
function runs(s: IntervalSchedule, created: Date, count: number, late = 0): string[] {
  const result: string[] = [];
  let next = nextRunAfter(s, created);
  for (let i = 0; i < count; i++) {
    result.push(next.toISOString());
    next = nextRunAfter(s, new Date(next.getTime() + late));
  }
  return result;
}

/** Local year-month-day of `iso`. */
function localDay(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** Local HH:MM of `iso`. */
function localTime(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** Runs fall on local calendar days `step` days apart: none skipped, none twice. */
function assertLocalDaysApart(isoRuns: string[], step: number) {
  for (let i = 1; i < isoRuns.length; i++) {
    const previous = new Date(isoRuns[i - 1]);
    const expected = new Date(
      previous.getFullYear(),
      previous.getMonth(),
      previous.getDate() + step,
      12,
    );
    assert.equal(
      localDay(isoRuns[i]),
      localDay(expected.toISOString()),
      `run ${i} (${isoRuns[i]}) is ${step} local day(s) after ${isoRuns[i - 1]}`,
    );
  }
}

/**
 * Checks a daily schedule: the exact runs, one per local day, each at `at`
 * local time except on the days listed in `shifted` (the spring-forward day,
 * where `at` does not exist).
 */
function assertDaily(
  s: IntervalSchedule,
  created: Date,
  expected: string[],
  shifted: Record<string, string> = {},
) {
  // The successor is the same whether computed at the slot, just after, or after a long run.
  for (const late of [0, 1, 59 * MINUTE, 61 * MINUTE, 5 * HOUR]) {
    assert.deepEqual(runs(s, created, expected.length, late), expected, `computed ${late} ms late`);
  }
  assertLocalDaysApart(expected, 1);
  for (const run of expected) {
    assert.equal(localTime(run), shifted[localDay(run)] ?? s.at, `local time of ${run}`);
  }
}

const checks: Checks = {
  "Europe/Berlin": [
    // CET (UTC+1) to CEST (UTC+2) on 2026-03-29 at 02:00 local: 02:00-02:59 does not exist.
    ["daily 02:00 across spring-forward: 03:00 on the day, once", () => {
      const created = local(2026, 3, 26, 12);
      assertDaily(schedule(created, DAY_MINUTES, "02:00"), created, [
        "2026-03-27T01:00:00.000Z",
        "2026-03-28T01:00:00.000Z",
        "2026-03-29T01:00:00.000Z", // 03:00 CEST: 02:00 does not exist that day
        "2026-03-30T00:00:00.000Z",
        "2026-03-31T00:00:00.000Z",
      ], { "2026-3-29": "03:00" });
    }],
    ["daily 02:30 across spring-forward: 03:30 on the day, once", () => {
      const created = local(2026, 3, 27, 12);
      assertDaily(schedule(created, DAY_MINUTES, "02:30"), created, [
        "2026-03-28T01:30:00.000Z",
        "2026-03-29T01:30:00.000Z", // 03:30 CEST
        "2026-03-30T00:30:00.000Z",
      ], { "2026-3-29": "03:30" });
    }],
    ["daily 02:30 made inside the gap still runs at 02:30 on later days", () => {
      const created = local(2026, 3, 29, 10);
      const s = schedule(created, DAY_MINUTES, "02:30");
      // The anchor itself moved to 03:30 CEST: 02:30 does not exist that day.
      assert.equal(s.anchor, "2026-03-29T01:30:00.000Z");
      assertDaily(s, created, [
        "2026-03-30T00:30:00.000Z",
        "2026-03-31T00:30:00.000Z",
      ]);
    }],
    ["daily 02:00 made before 02:00 on spring-forward day runs that day at 03:00", () => {
      const created = local(2026, 3, 29, 1, 30); // 01:30 CET
      assert.equal(
        nextRunAfter(schedule(created, DAY_MINUTES, "02:00"), created).toISOString(),
        "2026-03-29T01:00:00.000Z",
      );
    }],
    // CEST to CET on 2026-10-25 at 03:00 local: 02:00-02:59 happens twice.
    ["daily 02:00 across fall-back: once on the day, not at the repeated 02:00", () => {
      const created = local(2026, 10, 22, 12);
      assertDaily(schedule(created, DAY_MINUTES, "02:00"), created, [
        "2026-10-23T00:00:00.000Z",
        "2026-10-24T00:00:00.000Z",
        "2026-10-25T00:00:00.000Z", // 02:00 CEST, the first 02:00
        "2026-10-26T01:00:00.000Z", // 02:00 CET
        "2026-10-27T01:00:00.000Z",
      ]);
    }],
    [
      "daily 02:00: a run at the second 02:00 of fall-back day is followed by the next day's",
      () => {
        const created = local(2026, 10, 22, 12);
        const s = schedule(created, DAY_MINUTES, "02:00");
        for (
          const now of ["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:20:00Z"]
        ) {
          assert.equal(
            nextRunAfter(s, new Date(now)).toISOString(),
            "2026-10-26T01:00:00.000Z",
            now,
          );
        }
      },
    ],
    ["daily 02:30 across fall-back (inside the repeated hour) runs once", () => {
      const created = local(2026, 10, 23, 12);
      assertDaily(schedule(created, DAY_MINUTES, "02:30"), created, [
        "2026-10-24T00:30:00.000Z",
        "2026-10-25T00:30:00.000Z",
        "2026-10-26T01:30:00.000Z",
      ]);
    }],
    ["daily 01:30 across fall-back runs once", () => {
      const created = local(2026, 10, 23, 12);
      assertDaily(schedule(created, DAY_MINUTES, "01:30"), created, [
        "2026-10-23T23:30:00.000Z",
        "2026-10-24T23:30:00.000Z", // 2026-10-25 01:30 CEST
        "2026-10-26T00:30:00.000Z",
        "2026-10-27T00:30:00.000Z",
      ]);
    }],
    ["daily --at 02:00 scheduled during the second 02:00 hour waits for the next day", () => {
      const now = new Date("2026-10-25T01:20:00Z"); // 02:20 CET, the second time round
      const s = schedule(now, DAY_MINUTES, "02:00");
      assert.equal(new Date(s.anchor).getHours(), 2);
      assert.equal(localDay(s.anchor), "2026-10-25");
      assert.equal(nextRunAfter(s, now).toISOString(), "2026-10-26T01:00:00.000Z");
    }],
    ["daily: runs missed while off for 3 days are not replayed", () => {
      const created = local(2026, 3, 26, 12);
      const s = schedule(created, DAY_MINUTES, "02:00");
      assert.equal(nextRunAfter(s, created).toISOString(), "2026-03-27T01:00:00.000Z");
      // Off from just before that run until 2026-03-30 15:00 local.
      const back = local(2026, 3, 30, 15);
      assert.equal(nextRunAfter(s, back).toISOString(), "2026-03-31T00:00:00.000Z");
    }],
    ["every 2d at 02:00 runs every other local day across spring-forward", () => {
      const created = local(2026, 3, 27, 12);
      const s = schedule(created, 2 * DAY_MINUTES, "02:00");
      const expected = [
        "2026-03-29T01:00:00.000Z", // 03:00 CEST
        "2026-03-31T00:00:00.000Z",
        "2026-04-02T00:00:00.000Z",
      ];
      assert.deepEqual(runs(s, created, 3), expected);
      assertLocalDaysApart(expected, 2);
    }],
    ["weekly 02:00 keeps the weekday and the local time across both changes", () => {
      for (
        const [created, expected] of [
          [local(2026, 3, 18, 12), [ // a Wednesday
            "2026-03-25T01:00:00.000Z",
            "2026-04-01T00:00:00.000Z",
            "2026-04-08T00:00:00.000Z",
          ]],
          [local(2026, 10, 14, 12), [
            "2026-10-21T00:00:00.000Z",
            "2026-10-28T01:00:00.000Z",
            "2026-11-04T01:00:00.000Z",
          ]],
        ] as const
      ) {
        const s = schedule(created, 7 * DAY_MINUTES, "02:00");
        assert.deepEqual(runs(s, created, 3), expected);
        for (const run of expected) {
          assert.equal(new Date(run).getDay(), 3, `${run} is a Wednesday`);
          assert.equal(localTime(run), "02:00");
        }
        assertLocalDaysApart([...expected], 7);
      }
    }],
    ["weekly without --at keeps the anchor's local time of day across spring-forward", () => {
      const created = local(2026, 3, 25, 9, 15, 40); // Wednesday 09:15:40 CET
      const s = schedule(created, 7 * DAY_MINUTES);
      assert.equal(s.anchor, "2026-03-25T08:15:00.000Z");
      assert.deepEqual(runs(s, created, 3), [
        "2026-04-01T07:15:00.000Z", // 09:15 CEST, not 10:15
        "2026-04-08T07:15:00.000Z",
        "2026-04-15T07:15:00.000Z",
      ]);
    }],
    ["6h and 30m grids keep real-time steps through the fall-back night", () => {
      const sixHours: IntervalSchedule = { everyMinutes: 360, anchor: "2026-10-24T22:00:00.000Z" };
      assert.deepEqual(runs(sixHours, new Date(sixHours.anchor), 4), [
        "2026-10-25T04:00:00.000Z",
        "2026-10-25T10:00:00.000Z",
        "2026-10-25T16:00:00.000Z",
        "2026-10-25T22:00:00.000Z",
      ]);
      const halfHour: IntervalSchedule = { everyMinutes: 30, anchor: "2026-10-25T00:00:00.000Z" };
      const halfHourRuns = runs(halfHour, new Date(halfHour.anchor), 4);
      assert.deepEqual(halfHourRuns, [
        "2026-10-25T00:30:00.000Z",
        "2026-10-25T01:00:00.000Z",
        "2026-10-25T01:30:00.000Z",
        "2026-10-25T02:00:00.000Z",
      ]);
      // Local times repeat (02:30 CEST, then 02:00 and 02:30 CET): real time does not.
      assert.deepEqual(halfHourRuns.map(localTime), ["02:30", "02:00", "02:30", "03:00"]);
    }],
    ["6h grid keeps real-time steps through the spring-forward night", () => {
      const s: IntervalSchedule = { everyMinutes: 360, anchor: "2026-03-28T23:00:00.000Z" };
      const result = runs(s, new Date(s.anchor), 3);
      assert.deepEqual(result, [
        "2026-03-29T05:00:00.000Z",
        "2026-03-29T11:00:00.000Z",
        "2026-03-29T17:00:00.000Z",
      ]);
      assert.deepEqual(result.map(localTime), ["07:00", "13:00", "19:00"]);
    }],
  ],
  "America/New_York": [
    // EST (UTC-5) to EDT (UTC-4) on 2026-03-08 at 02:00 local: 02:00-02:59 does not exist.
    ["daily 02:00 across spring-forward: 03:00 on the day, once", () => {
      const created = local(2026, 3, 5, 12);
      assertDaily(schedule(created, DAY_MINUTES, "02:00"), created, [
        "2026-03-06T07:00:00.000Z",
        "2026-03-07T07:00:00.000Z",
        "2026-03-08T07:00:00.000Z", // 03:00 EDT
        "2026-03-09T06:00:00.000Z",
        "2026-03-10T06:00:00.000Z",
      ], { "2026-3-8": "03:00" });
    }],
    ["daily 02:30 across spring-forward: 03:30 on the day, once", () => {
      const created = local(2026, 3, 6, 12);
      assertDaily(schedule(created, DAY_MINUTES, "02:30"), created, [
        "2026-03-07T07:30:00.000Z",
        "2026-03-08T07:30:00.000Z", // 03:30 EDT
        "2026-03-09T06:30:00.000Z",
      ], { "2026-3-8": "03:30" });
    }],
    // EDT to EST on 2026-11-01 at 02:00 local: 01:00-01:59 happens twice.
    ["daily 02:00 across fall-back runs once, at 02:00 EST", () => {
      const created = local(2026, 10, 29, 12);
      assertDaily(schedule(created, DAY_MINUTES, "02:00"), created, [
        "2026-10-30T06:00:00.000Z",
        "2026-10-31T06:00:00.000Z",
        "2026-11-01T07:00:00.000Z", // 02:00 EST: the clock reached 02:00 only once
        "2026-11-02T07:00:00.000Z",
        "2026-11-03T07:00:00.000Z",
      ]);
    }],
    ["daily 01:30 across fall-back (inside the repeated hour) runs once", () => {
      const created = local(2026, 10, 29, 12);
      assertDaily(schedule(created, DAY_MINUTES, "01:30"), created, [
        "2026-10-30T05:30:00.000Z",
        "2026-10-31T05:30:00.000Z",
        "2026-11-01T05:30:00.000Z", // 01:30 EDT, the first 01:30
        "2026-11-02T06:30:00.000Z", // 01:30 EST
        "2026-11-03T06:30:00.000Z",
      ]);
    }],
    [
      "daily 01:30: a run at the second 01:30 of fall-back day is followed by the next day's",
      () => {
        const created = local(2026, 10, 29, 12);
        const s = schedule(created, DAY_MINUTES, "01:30");
        for (
          const now of ["2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T06:45:00Z"]
        ) {
          assert.equal(
            nextRunAfter(s, new Date(now)).toISOString(),
            "2026-11-02T06:30:00.000Z",
            now,
          );
        }
      },
    ],
    ["weekly Sunday 02:00 keeps the weekday across both changes (which fall on Sundays)", () => {
      for (
        const [created, expected] of [
          [local(2026, 3, 1, 12), [
            "2026-03-08T07:00:00.000Z", // 03:00 EDT: 02:00 does not exist
            "2026-03-15T06:00:00.000Z",
            "2026-03-22T06:00:00.000Z",
          ]],
          [local(2026, 10, 25, 12), [
            "2026-11-01T07:00:00.000Z",
            "2026-11-08T07:00:00.000Z",
            "2026-11-15T07:00:00.000Z",
          ]],
        ] as const
      ) {
        const s = schedule(created, 7 * DAY_MINUTES, "02:00");
        assert.deepEqual(runs(s, created, 3), expected);
        for (const run of expected) assert.equal(new Date(run).getDay(), 0, `${run} is a Sunday`);
        assertLocalDaysApart([...expected], 7);
      }
    }],
    ["anchorFor --at 02:30 on spring-forward day lands on 03:30 EDT", () => {
      assert.equal(
        anchorFor(local(2026, 3, 8, 12), { hour: 2, minute: 30 }).toISOString(),
        "2026-03-08T07:30:00.000Z",
      );
    }],
  ],
};

runChecks(checks);
