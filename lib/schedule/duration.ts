/** Durations for --every: `30m`, `6h`, `1d`, `1w`, and sums such as `1h30m`. */

const MINUTES_PER_UNIT: Record<string, number> = { m: 1, h: 60, d: 24 * 60, w: 7 * 24 * 60 };

/** The shortest interval: at(1) counts in minutes. */
export const MIN_MINUTES = 1;

/** The longest interval, ten years: far enough for anyone, near enough for at's dates. */
export const MAX_MINUTES = 520 * 7 * 24 * 60;

/** Parses a duration into whole minutes; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+[mhdw])+$/.test(text)) return undefined;
  let minutes = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)([mhdw])/g)) {
    minutes += Number(count) * MINUTES_PER_UNIT[unit];
  }
  return Number.isSafeInteger(minutes) ? minutes : undefined;
}

/** Whether an interval of `minutes` is a whole number of days, and so follows the local calendar. */
export function isWholeDays(minutes: number): boolean {
  return minutes % MINUTES_PER_UNIT.d === 0;
}
