import assert from "node:assert/strict";
import { isWholeDays, MIN_MINUTES, parseDuration } from "../../lib/schedule/duration.ts";

const HOUR = 60;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

// parseDuration

Deno.test("parseDuration reads each unit as whole minutes", () => {
  assert.equal(parseDuration("30m"), 30);
  assert.equal(parseDuration("1h"), HOUR);
  assert.equal(parseDuration("6h"), 6 * HOUR);
  assert.equal(parseDuration("1d"), DAY);
  assert.equal(parseDuration("1w"), WEEK);
});

Deno.test("parseDuration adds up a sum of parts", () => {
  assert.equal(parseDuration("1h30m"), 90);
  assert.equal(parseDuration("2w3d"), 2 * WEEK + 3 * DAY);
  assert.equal(parseDuration("1w1d1h1m"), WEEK + DAY + HOUR + 1);
});

Deno.test("parseDuration takes multi-digit counts and leading zeros", () => {
  assert.equal(parseDuration("90m"), 90);
  assert.equal(parseDuration("36h"), 36 * HOUR);
  assert.equal(parseDuration("01h"), HOUR);
});

Deno.test("parseDuration rejects what is not a duration", () => {
  for (
    const text of [
      "",
      "1",
      "h",
      "1s",
      "1.5h",
      "-1h",
      "+1h",
      "1H",
      "1D",
      " 1h",
      "1h ",
      "1h 30m",
      "1 h",
      "h1",
      "1hm",
      "1h30",
      "１h", // a full-width digit
      "1y",
      "1h\n",
    ]
  ) {
    assert.equal(parseDuration(text), undefined, JSON.stringify(text));
  }
});

Deno.test("parseDuration rejects a duration too long to count in safe integers", () => {
  assert.equal(parseDuration("99999999999999999999m"), undefined);
  assert.equal(parseDuration(`${Number.MAX_SAFE_INTEGER}w`), undefined);
});

Deno.test("the shortest interval is one minute", () => {
  assert.equal(MIN_MINUTES, 1);
  assert.equal(parseDuration("1m"), MIN_MINUTES);
});

// isWholeDays

Deno.test("isWholeDays is true for days and weeks", () => {
  assert.equal(isWholeDays(DAY), true);
  assert.equal(isWholeDays(2 * DAY), true);
  assert.equal(isWholeDays(WEEK), true);
  assert.equal(isWholeDays(parseDuration("24h")!), true);
  assert.equal(isWholeDays(parseDuration("2w3d")!), true);
});

Deno.test("isWholeDays is false for intervals that are not a whole number of days", () => {
  assert.equal(isWholeDays(30), false);
  assert.equal(isWholeDays(6 * HOUR), false);
  assert.equal(isWholeDays(DAY - 1), false);
  assert.equal(isWholeDays(DAY + 1), false);
  assert.equal(isWholeDays(parseDuration("1d1h")!), false);
  assert.equal(isWholeDays(parseDuration("36h")!), false);
});
