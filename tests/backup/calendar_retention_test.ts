import assert from "node:assert/strict";
import { assertChecksPass } from "../schedule/_tz.ts";
import {
  type Calendar,
  describeRetention,
  formatCalendarSpan,
  isoWeek,
  keepLast,
  parseCalendarSpan,
  type Retention,
  retentionPlan,
} from "../../lib/backup/retention.ts";
import { RESTIC_CASES, RESTIC_TIMES } from "./_restic_policy_cases.ts";

/** restic's fixtures are in UTC. */
const UTC: Calendar = {
  fields: (d) => ({
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
  }),
  back: (d, span) =>
    new Date(
      Date.UTC(
        d.getUTCFullYear() - span.years,
        d.getUTCMonth() - span.months,
        d.getUTCDate() - span.days,
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
        d.getUTCMilliseconds(),
      ) - span.hours * 3_600_000,
    ),
};

/**
 * restic's snapshots as backups of one series: newest first as restic sorts
 * them (stably, so equal times keep the test's order), each a version of its own.
 */
function resticSeries() {
  const order = RESTIC_TIMES.map((time, i) => ({ time, i }))
    .sort((a, b) => a.time < b.time ? 1 : a.time > b.time ? -1 : a.i - b.i);
  return order.map(({ time, i }, rank) => ({
    metadata: { time, file: `s.${i}`, generation: order.length - rank, sha256: `v${i}` },
  }));
}

const NOW = new Date("2026-12-04T00:00:00Z");

for (const { number, policy, kept } of RESTIC_CASES) {
  Deno.test(`retentionPlan keeps what restic keeps: policy_keep_snapshots_${number} ${JSON.stringify(policy)}`, () => {
    const { within, ...counts } = policy;
    const retention: Retention = {
      ...keepLast(0),
      ...counts,
      ...(within ? { within: { years: 0, months: 0, days: 0, hours: 0, ...within } } : {}),
    };
    const series = resticSeries();
    const plan = retentionPlan(series, retention, NOW, UTC);
    assert.deepEqual(
      plan.kept.map(({ backup, reasons }) => [backup.metadata.time, reasons]),
      kept,
    );
    assert.equal(plan.kept.length + plan.removed.length, series.length);
  });
}

Deno.test("isoWeek: the week of the year's Thursday, across year ends", () => {
  assert.equal(isoWeek(2026, 1, 1), 202601); // a Thursday
  assert.equal(isoWeek(2027, 1, 1), 202653); // a Friday: 2026 has 53 weeks
  assert.equal(isoWeek(2027, 1, 4), 202701);
  assert.equal(isoWeek(2024, 12, 30), 202501); // a Monday in 2025's first week
  assert.equal(isoWeek(2021, 1, 3), 202053);
  assert.equal(isoWeek(2026, 12, 4), 202649);
});

Deno.test("retentionPlan: calendar buckets and --keep-within follow local time (TZ)", async () => {
  const script = new URL("./_retention_tz.ts", import.meta.url);
  await assertChecksPass(script, "Pacific/Auckland", 2);
  await assertChecksPass(script, "America/New_York", 2);
});

/** Backups one day apart at noon UTC from 1 December 2026, with the contents given by letters. */
function daily(contents: string) {
  return [...contents].map((content, i) => ({
    id: `${content}${i + 1}`,
    metadata: {
      time: new Date(Date.UTC(2026, 11, 1 + i, 12)).toISOString(),
      file: `n.${i}`,
      generation: i + 1,
      sha256: content,
    },
  }));
}

const keptIds = (plan: { kept: { backup: { id: string } }[] }) => plan.kept.map((k) => k.backup.id);

Deno.test("retentionPlan: last counts versions, the calendar rules count days whatever they hold", () => {
  // C, A, B, A: last 3 keeps the newest copy of each version; daily 4 keeps each day's backup.
  const series = daily("CABA");
  assert.deepEqual(keptIds(retentionPlan(series, keepLast(3), NOW, UTC)), ["A4", "B3", "C1"]);
  const plan = retentionPlan(series, { ...keepLast(1), daily: 4 }, NOW, UTC);
  assert.deepEqual(plan.kept.map((k) => [k.backup.id, k.reasons]), [
    ["A4", ["last", "daily"]],
    ["B3", ["daily"]],
    ["A2", ["daily"]],
    ["C1", ["daily"]],
  ]);
});

Deno.test("retentionPlan: the newest is always kept, and no rule at all keeps everything", () => {
  const series = daily("ABCDE");
  for (
    const retention of [
      keepLast(1),
      { ...keepLast(0), weekly: 1 },
      { ...keepLast(0), within: { years: 0, months: 0, days: 0, hours: 1 } },
    ]
  ) {
    assert.equal(retentionPlan(series, retention, NOW, UTC).kept[0].backup.id, "E5");
  }
  const all = retentionPlan(series, keepLast(0), NOW, UTC);
  assert.deepEqual(keptIds(all), ["E5", "D4", "C3", "B2", "A1"]);
  assert.deepEqual(all.removed, []);
});

Deno.test("retentionPlan: --keep-within counts back from the newest backup that is not in the future", () => {
  const series = daily("ABCD");
  // D is dated 4 December; "now" is 3 December 13:00, so D is in the future.
  const now = new Date("2026-12-03T13:00:00Z");
  const within = { years: 0, months: 0, days: 1, hours: 0 };
  const plan = retentionPlan(series, { ...keepLast(0), within }, now, UTC);
  assert.deepEqual(keptIds(plan), ["D4", "C3"]);
});

Deno.test("retentionPlan orders by generation: a backup dated ahead by a wrong clock does not push out the newest", () => {
  const series = daily("ABC");
  series[0].metadata.time = "2027-06-01T12:00:00.000Z"; // A1, made first, dated half a year ahead
  const plan = retentionPlan(series, { ...keepLast(0), daily: 1 }, NOW, UTC);
  assert.deepEqual(keptIds(plan), ["C3"]);
});

Deno.test("parseCalendarSpan and formatCalendarSpan: y, m (months), w, d, h", () => {
  assert.deepEqual(parseCalendarSpan("1y2m3d4h"), { years: 1, months: 2, days: 3, hours: 4 });
  assert.deepEqual(parseCalendarSpan("2w1w"), { years: 0, months: 0, days: 21, hours: 0 });
  assert.deepEqual(parseCalendarSpan("36h"), { years: 0, months: 0, days: 0, hours: 36 });
  for (const bad of ["", "0d", "1", "d", "1.5d", "1 d", "-1d", "1M", "1s", "1234567d"]) {
    assert.equal(parseCalendarSpan(bad), undefined, bad);
  }
  assert.equal(formatCalendarSpan({ years: 1, months: 0, days: 17, hours: 12 }), "1y17d12h");
});

Deno.test("describeRetention spells the policy as the options do", () => {
  assert.equal(describeRetention(keepLast(14)), "last 14");
  assert.equal(describeRetention(keepLast(0)), "all");
  assert.equal(
    describeRetention({
      ...keepLast(3),
      daily: 7,
      monthly: 12,
      within: { years: 0, months: 6, days: 0, hours: 0 },
    }),
    "last 3, daily 7, monthly 12, within 6m",
  );
});
