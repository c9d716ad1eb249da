import assert from "node:assert/strict";
import {
  anchorFor,
  type IntervalSchedule,
  nextRunAfter,
  parseTimeOfDay,
} from "../../lib/schedule/next_run.ts";
import { assertChecksPass } from "./_tz.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ANCHOR = "2026-01-01T00:00:00.000Z";
const anchorTime = new Date(ANCHOR).getTime();
const at = (ms: number) => new Date(anchorTime + ms);
const iso = (ms: number) => at(ms).toISOString();

/** A fixed-grid schedule; grids run in real time, so these checks need no time zone. */
function grid(everyMinutes: number): IntervalSchedule {
  return { everyMinutes, anchor: ANCHOR };
}

// parseTimeOfDay

Deno.test("parseTimeOfDay reads 24-hour HH:MM", () => {
  assert.deepEqual(parseTimeOfDay("00:00"), { hour: 0, minute: 0 });
  assert.deepEqual(parseTimeOfDay("02:00"), { hour: 2, minute: 0 });
  assert.deepEqual(parseTimeOfDay("12:30"), { hour: 12, minute: 30 });
  assert.deepEqual(parseTimeOfDay("19:45"), { hour: 19, minute: 45 });
  assert.deepEqual(parseTimeOfDay("23:59"), { hour: 23, minute: 59 });
});

Deno.test("parseTimeOfDay takes a one-digit hour", () => {
  assert.deepEqual(parseTimeOfDay("7:05"), { hour: 7, minute: 5 });
});

Deno.test("parseTimeOfDay rejects what is not a time of day", () => {
  for (
    const text of [
      "24:00",
      "7:5",
      "07:60",
      "ab",
      "",
      "2",
      "02",
      "02:0",
      "002:00",
      "02:000",
      " 02:00",
      "02:00 ",
      "02-00",
      "02.00",
      "-1:00",
      "02:00:00",
      "2am",
      "25:00",
      "99:99",
    ]
  ) {
    assert.equal(parseTimeOfDay(text), undefined, JSON.stringify(text));
  }
});

// anchorFor

Deno.test("anchorFor without --at is now to the minute", () => {
  assert.equal(
    anchorFor(new Date("2026-06-10T10:17:42.123Z")).toISOString(),
    "2026-06-10T10:17:00.000Z",
  );
  assert.equal(
    anchorFor(new Date("2026-06-10T10:17:00.000Z")).toISOString(),
    "2026-06-10T10:17:00.000Z",
  );
});

Deno.test("anchorFor with --at is today at that local time, even when it has passed", () => {
  const now = new Date(2026, 5, 10, 14, 20, 30, 500);
  assert.equal(
    anchorFor(now, { hour: 2, minute: 0 }).getTime(),
    new Date(2026, 5, 10, 2, 0).getTime(),
  );
  assert.equal(
    anchorFor(now, { hour: 23, minute: 45 }).getTime(),
    new Date(2026, 5, 10, 23, 45).getTime(),
  );
});

Deno.test("anchorFor leaves the given moment alone", () => {
  const now = new Date("2026-06-10T10:17:42.123Z");
  anchorFor(now);
  anchorFor(now, { hour: 2, minute: 0 });
  assert.equal(now.toISOString(), "2026-06-10T10:17:42.123Z");
});

// nextRunAfter: fixed grids

Deno.test("nextRunAfter on a 6h grid does not drift", () => {
  const step = 6 * HOUR;
  assert.equal(nextRunAfter(grid(360), at(10.5 * step)).toISOString(), iso(11 * step));
  assert.equal(nextRunAfter(grid(360), at(1000.25 * step)).toISOString(), iso(1001 * step));
  // A run that starts a few seconds late does not shift the grid.
  assert.equal(nextRunAfter(grid(360), at(3 * step + 7_000)).toISOString(), iso(4 * step));
});

Deno.test("nextRunAfter on a 30m grid does not drift", () => {
  const step = 30 * MINUTE;
  assert.equal(nextRunAfter(grid(30), at(10.5 * step)).toISOString(), iso(11 * step));
  assert.equal(nextRunAfter(grid(30), at(20_000.9 * step)).toISOString(), iso(20_001 * step));
});

Deno.test("nextRunAfter on a 1h30m grid counts from the anchor, not from the hour", () => {
  const step = 90 * MINUTE;
  assert.equal(nextRunAfter(grid(90), at(10.5 * step)).toISOString(), iso(11 * step));
  assert.equal(nextRunAfter(grid(90), at(HOUR)).toISOString(), "2026-01-01T01:30:00.000Z");
  assert.equal(nextRunAfter(grid(90), at(2 * HOUR)).toISOString(), "2026-01-01T03:00:00.000Z");
});

Deno.test("nextRunAfter is strictly after: at exactly a slot it gives the next slot", () => {
  for (const minutes of [30, 360]) {
    const step = minutes * MINUTE;
    assert.equal(nextRunAfter(grid(minutes), at(0)).toISOString(), iso(step), `${minutes}m`);
    assert.equal(nextRunAfter(grid(minutes), at(11 * step)).toISOString(), iso(12 * step));
    assert.equal(nextRunAfter(grid(minutes), at(11 * step - 1)).toISOString(), iso(11 * step));
  }
});

Deno.test("nextRunAfter before the anchor gives the anchor itself", () => {
  assert.equal(nextRunAfter(grid(360), at(-1)).toISOString(), ANCHOR);
  assert.equal(nextRunAfter(grid(360), at(-5 * 6 * HOUR)).toISOString(), ANCHOR);
});

Deno.test("nextRunAfter does not replay runs missed while the machine was off", () => {
  // Off for three days: the next run is the first slot after now, once.
  const now = at(3 * 24 * HOUR + 13 * HOUR + 17 * MINUTE);
  assert.equal(nextRunAfter(grid(360), now).toISOString(), "2026-01-04T18:00:00.000Z");
  assert.equal(nextRunAfter(grid(30), now).toISOString(), "2026-01-04T13:30:00.000Z");
});

Deno.test("nextRunAfter on a grid follows a sequence of runs with no gaps or repeats", () => {
  const step = 6 * HOUR;
  let next = nextRunAfter(grid(360), at(0));
  for (let i = 1; i <= 40; i++) {
    assert.equal(next.toISOString(), iso(i * step));
    next = nextRunAfter(grid(360), next);
  }
});

Deno.test("nextRunAfter on a grid ignores --at: it counts from the anchor", () => {
  const schedule = { ...grid(360), at: "02:00" };
  assert.equal(nextRunAfter(schedule, at(HOUR)).toISOString(), "2026-01-01T06:00:00.000Z");
});

// nextRunAfter: calendar days, outside daylight saving changes (those are in _next_run_tz.ts)

Deno.test("nextRunAfter daily --at runs today when the time is still to come, else tomorrow", () => {
  const created = new Date(2026, 5, 10, 1, 0);
  const schedule = {
    everyMinutes: 24 * 60,
    at: "02:00",
    anchor: anchorFor(created, { hour: 2, minute: 0 }).toISOString(),
  };
  assert.equal(nextRunAfter(schedule, created).getTime(), new Date(2026, 5, 10, 2, 0).getTime());
  assert.equal(
    nextRunAfter(schedule, new Date(2026, 5, 10, 2, 0)).getTime(),
    new Date(2026, 5, 11, 2, 0).getTime(),
  );
  assert.equal(
    nextRunAfter(schedule, new Date(2026, 5, 10, 14, 0)).getTime(),
    new Date(2026, 5, 11, 2, 0).getTime(),
  );
  // Off for three days: the next run is the first one after now.
  assert.equal(
    nextRunAfter(schedule, new Date(2026, 5, 13, 14, 0)).getTime(),
    new Date(2026, 5, 14, 2, 0).getTime(),
  );
});

// nextRunAfter in real time zones, across daylight saving changes, in a child process with TZ set

const TZ_CHECKS = new URL("./_next_run_tz.ts", import.meta.url);

Deno.test("nextRunAfter across daylight saving changes in Europe/Berlin", async () => {
  await assertChecksPass(TZ_CHECKS, "Europe/Berlin", 15);
});

Deno.test("nextRunAfter across daylight saving changes in America/New_York", async () => {
  await assertChecksPass(TZ_CHECKS, "America/New_York", 7);
});
