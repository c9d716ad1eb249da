/**
 * When an interval job runs next. Pure: the same schedule and clock give the
 * same answer, so DST and missed runs are tested with plain values (and TZ).
 *
 * Whole-day intervals (1d, 2d, 1w) follow the local calendar: a daily job at
 * 02:00 runs at 02:00 local time every day, across DST changes, never twice a
 * day and never skipping one. Shorter intervals (30m, 6h) are a fixed grid of
 * real time from an anchor: they never drift. Either way the next run is the
 * first slot after the given moment, so runs missed while the machine was off
 * are not replayed.
 */
import { isWholeDays } from "./duration.ts";

export interface IntervalSchedule {
  /** The interval in minutes. */
  everyMinutes: number;
  /** The first slot of the grid, ISO 8601. */
  anchor: string;
  /**
   * `HH:MM` local time of day for whole-day intervals. Kept apart from the
   * anchor because an anchor made in a DST gap (02:30 on a spring-forward
   * day) has moved to another hour.
   */
  at?: string;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Parses `HH:MM` (24-hour); undefined when it is not a valid time of day. */
export function parseTimeOfDay(text: string): { hour: number; minute: number } | undefined {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match ? { hour: Number(match[1]), minute: Number(match[2]) } : undefined;
}

/**
 * The anchor of a new schedule made at `now`: today at `at` local time (which
 * may have passed already), or else `now` to the minute.
 */
export function anchorFor(now: Date, at?: { hour: number; minute: number }): Date {
  const anchor = new Date(now);
  if (at) anchor.setHours(at.hour, at.minute, 0, 0);
  else anchor.setSeconds(0, 0);
  return anchor;
}

/** The first slot of `schedule` strictly after `after`. */
export function nextRunAfter(schedule: IntervalSchedule, after: Date): Date {
  const anchor = new Date(schedule.anchor);
  if (isWholeDays(schedule.everyMinutes)) {
    const time = schedule.at ? parseTimeOfDay(schedule.at) : undefined;
    const hour = time?.hour ?? anchor.getHours();
    const minute = time?.minute ?? anchor.getMinutes();
    return nextCalendarSlot(anchor, schedule.everyMinutes * MINUTE / DAY, hour, minute, after);
  }
  const step = schedule.everyMinutes * MINUTE;
  const steps = Math.max(0, Math.floor((after.getTime() - anchor.getTime()) / step) + 1);
  return new Date(anchor.getTime() + steps * step);
}

/** Every `days` local calendar days from the anchor's date, at hour:minute local time. */
function nextCalendarSlot(
  anchor: Date,
  days: number,
  hour: number,
  minute: number,
  after: Date,
): Date {
  const slot = (k: number) =>
    new Date(anchor.getFullYear(), anchor.getMonth(), anchor.getDate() + k * days, hour, minute);
  // Start a little before the estimate: local days are 23 to 25 hours long.
  let k = Math.max(0, Math.floor((after.getTime() - anchor.getTime()) / (days * DAY)) - 1);
  while (slot(k).getTime() <= after.getTime()) k++;
  return slot(k);
}
