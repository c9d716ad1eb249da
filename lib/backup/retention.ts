/**
 * Retention policy: which backups of one series to remove. Pure, so the rule
 * is tested with plain values and applied the same way by backup and prune.
 */
import { identityOf } from "./metadata.ts";
import { parseBackupFileName } from "./naming.ts";

/** The least a backup needs for retention to order it. */
export interface Dated {
  metadata: {
    /**
     * Counts the series' backups up from 1, each one more than the highest
     * before it. Orders a series even when the clock jumped between backups.
     */
    generation: number;
    /** ISO 8601 time the backup was taken. */
    time: string;
    /** File name; orders backups taken within the same millisecond. */
    file: string;
    /** SHA-256 of the content: backups holding the same one are one version... */
    sha256?: string;
    /** ...or the same identity, where they have one (see BackupMetadata.identity)... */
    identity?: string;
    /** ...or, encrypted, the same content tag (see identityOf). */
    encryption?: { contentTag: string };
  };
}

/**
 * Orders one series newest first: by generation, then (for runs that raced
 * to the same generation) by time, sequence number in the name, and name.
 * The clock comes second, so a backup dated a year ahead by a wrong clock
 * never counts as newer than the backups made after it.
 */
export function newestFirst(a: Dated, b: Dated): number {
  const [x, y] = [a.metadata, b.metadata];
  if (x.generation !== y.generation) return y.generation - x.generation;
  return newestByTime(a, b);
}

/** Orders backups of any series by when they were taken, newest first: for people to read. */
export function newestByTime(a: Dated, b: Dated): number {
  const [x, y] = [a.metadata, b.metadata];
  if (x.time !== y.time) return x.time < y.time ? 1 : -1;
  const bySequence = sequenceOf(y.file) - sequenceOf(x.file);
  if (bySequence !== 0) return bySequence;
  return x.file < y.file ? 1 : x.file > y.file ? -1 : 0;
}

function sequenceOf(file: string): number {
  return parseBackupFileName(file)?.sequence ?? 0;
}

/** The generation a new backup of `series` gets: one more than any before it. */
export function nextGeneration(series: readonly Dated[]): number {
  return series.reduce((highest, b) => Math.max(highest, b.metadata.generation), 0) + 1;
}

/** A span of calendar time, as restic's `--keep-within` takes it: `1y2m3d4h`. */
export interface CalendarSpan {
  years: number;
  months: number;
  days: number;
  hours: number;
}

const SPAN_UNITS: Record<string, [keyof CalendarSpan, number]> = {
  y: ["years", 1],
  m: ["months", 1],
  w: ["days", 7],
  d: ["days", 1],
  h: ["hours", 1],
};

/**
 * Parses a span such as `1y6m`, `30d`, `2w` or `36h` (m is months, as in
 * restic); undefined when it is not one, or is empty.
 */
export function parseCalendarSpan(text: string): CalendarSpan | undefined {
  if (!/^(\d{1,6}[ymwdh])+$/.test(text)) return undefined;
  const span: CalendarSpan = { years: 0, months: 0, days: 0, hours: 0 };
  for (const [, count, unit] of text.matchAll(/(\d+)([ymwdh])/g)) {
    const [field, factor] = SPAN_UNITS[unit];
    span[field] += Number(count) * factor;
  }
  return Object.values(span).some((n) => n > 0) ? span : undefined;
}

/** A span written back as `parseCalendarSpan` reads it: `1y2m3d4h`. */
export function formatCalendarSpan(span: CalendarSpan): string {
  return [[span.years, "y"], [span.months, "m"], [span.days, "d"], [span.hours, "h"]]
    .filter(([n]) => n !== 0).map(([n, unit]) => `${n}${unit}`).join("");
}

/**
 * Which backups of a series to keep. `last` counts distinct versions (see
 * retentionPlan); the calendar rules count hours, days, ISO weeks, months and
 * years that hold backups, as restic's forget does. A policy with no rule
 * keeps every backup.
 */
export interface Retention {
  last: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  /** Keep every backup taken within this span before the newest one. */
  within?: CalendarSpan;
}

/** The policy of `--keep N` alone. */
export function keepLast(last: number): Retention {
  return { last, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
}

/** The policy in words, as the options spell it: `last 3, daily 7, within 1y`, or `all`. */
export function describeRetention(retention: Retention): string {
  if (keepsAll(retention)) return "all";
  const rules = [
    ...(["last", ...CALENDAR_RULES] as const).filter((rule) => retention[rule] > 0)
      .map((rule) => `${rule} ${retention[rule]}`),
    ...(retention.within ? [`within ${formatCalendarSpan(retention.within)}`] : []),
  ];
  return rules.join(", ");
}

/** The calendar rules, in the order restic applies (and reports) them. */
export const CALENDAR_RULES = ["hourly", "daily", "weekly", "monthly", "yearly"] as const;
export type CalendarRule = typeof CALENDAR_RULES[number];

/** Whether the policy has a rule besides `last` (a calendar rule or `within`). */
export function hasCalendarRules(retention: Retention): boolean {
  return CALENDAR_RULES.some((rule) => retention[rule] > 0) || retention.within !== undefined;
}

/** Whether the policy has no rule, and so keeps everything. */
export function keepsAll(retention: Retention): boolean {
  return retention.last === 0 && !hasCalendarRules(retention);
}

/** A date's calendar fields where the buckets are counted (local time, or UTC in tests). */
export interface Calendar {
  /** Year, month 1–12, day, hour. */
  fields(date: Date): { year: number; month: number; day: number; hour: number };
  /** `date` moved back by a span: years, months and days normalized as Go's AddDate does, then hours. */
  back(date: Date, span: CalendarSpan): Date;
}

/** The local calendar, as TZ gives it. */
export const LOCAL_CALENDAR: Calendar = {
  fields: (d) => ({
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
  }),
  back: (d, span) =>
    new Date(
      new Date(
        d.getFullYear() - span.years,
        d.getMonth() - span.months,
        d.getDate() - span.days,
        d.getHours(),
        d.getMinutes(),
        d.getSeconds(),
        d.getMilliseconds(),
      ).getTime() - span.hours * 3_600_000,
    ),
};

/** The ISO 8601 week of a calendar date, as year * 100 + week. */
export function isoWeek(year: number, month: number, day: number): number {
  // A week belongs to the year of its Thursday; week 1 holds 4 January.
  const thursday = new Date(Date.UTC(year, month - 1, day));
  thursday.setUTCDate(thursday.getUTCDate() - ((thursday.getUTCDay() + 6) % 7) + 3);
  const weekYear = thursday.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(weekYear, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() - ((firstThursday.getUTCDay() + 6) % 7) + 3);
  const week = 1 + Math.round((thursday.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
  return weekYear * 100 + week;
}

function bucketOf(rule: CalendarRule, date: Date, calendar: Calendar): number {
  const { year, month, day, hour } = calendar.fields(date);
  switch (rule) {
    case "hourly":
      return ((year * 100 + month) * 100 + day) * 100 + hour;
    case "daily":
      return (year * 100 + month) * 100 + day;
    case "weekly":
      return isoWeek(year, month, day);
    case "monthly":
      return year * 100 + month;
    case "yearly":
      return year;
  }
}

/** A backup kept, and the rules that keep it (`within`, `last`, `daily`, `oldest yearly`...). */
export interface Kept<T> {
  backup: T;
  reasons: string[];
}

/**
 * Applies a policy to one series, newest first, with restic's semantics for
 * the calendar rules: each rule keeps the newest backup of each of its
 * newest N buckets that hold backups; a backup counts for every rule it
 * matches; and when the oldest backup is reached with a rule's count not
 * used up, it is kept too ("oldest"), so the history kept is as long as it
 * can be. `within` keeps what was taken within the span before the newest
 * backup that is not in the future (`now`). `last` keeps the newest copy of
 * each of the N newest distinct versions: after versions C, A, B, A with
 * last 3, the last A, B and C. `backups` must all belong to one series.
 */
export function retentionPlan<T extends Dated>(
  backups: readonly T[],
  retention: Retention,
  now: Date,
  calendar: Calendar = LOCAL_CALENDAR,
): { kept: Kept<T>[]; removed: T[] } {
  const sorted = [...backups].sort(newestFirst);
  if (keepsAll(retention)) {
    return { kept: sorted.map((backup) => ({ backup, reasons: ["all"] })), removed: [] };
  }
  const times = sorted.map((b) => new Date(b.metadata.time));
  const newest = Math.max(...times.map((t) => t.getTime()).filter((t) => t <= now.getTime()));
  const since = retention.within && Number.isFinite(newest)
    ? calendar.back(new Date(newest), retention.within).getTime()
    : -Infinity;
  const left = new Map(CALENDAR_RULES.map((rule) => [rule, retention[rule]]));
  const lastBucket = new Map<CalendarRule, number>();
  const versions = new Set<string>();
  const kept: Kept<T>[] = [];
  const removed: T[] = [];
  sorted.forEach((backup, i) => {
    // In restic's order: within, last, then the calendar rules.
    const reasons = retention.within && times[i].getTime() > since ? ["within"] : [];
    const content = identityOf(backup.metadata);
    if (versions.size < retention.last && !versions.has(content)) {
      versions.add(content);
      reasons.push("last");
    }
    for (const rule of CALENDAR_RULES) {
      if (left.get(rule) === 0) continue;
      const bucket = bucketOf(rule, times[i], calendar);
      const oldest = i === sorted.length - 1;
      if (bucket !== lastBucket.get(rule) || oldest) {
        reasons.push(bucket === lastBucket.get(rule) ? `oldest ${rule}` : rule);
        lastBucket.set(rule, bucket);
        left.set(rule, left.get(rule)! - 1);
      }
    }
    if (reasons.length > 0) kept.push({ backup, reasons });
    else removed.push(backup);
  });
  return { kept, removed };
}

/** The backups `retention` removes from one series (see retentionPlan). */
export function backupsToRemove<T extends Dated>(
  backups: readonly T[],
  retention: Retention,
  now = new Date(),
): T[] {
  return retentionPlan(backups, retention, now).removed;
}
