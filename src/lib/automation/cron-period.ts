/**
 * How often a cron expression fires, for telling whether ticks are overdue.
 * Pure. Five fields (minute hour day-of-month month day-of-week), or six with
 * seconds first as node-cron takes them (the seconds are ignored: a tick is
 * overdue after minutes, not seconds). Numbers, `*`, ranges `a-b`, steps
 * `*∕n` and `a-b/n`, and lists; month and weekday names are not read.
 */

/** Upper and lower bounds of the five fields. */
const FIELDS = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12 },
  { min: 0, max: 7 },
] as const;

/** The values one field allows; null when it cannot be read. */
function fieldValues(text: string, min: number, max: number): Set<number> | null {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) return null;
    const range = match[1];
    let lo: number;
    let last: number;
    if (range === '*') [lo, last] = [min, max];
    else if (range.includes('-')) [lo, last] = range.split('-').map(Number);
    else [lo, last] = [Number(range), match[2] ? max : Number(range)];
    const step = match[2] ? Number(match[2]) : 1;
    if (lo < min || last > max || lo > last || step < 1) return null;
    for (let value = lo; value <= last; value += step) values.add(value);
  }
  return values;
}

/**
 * The longest wait between two firings of `expression` in seconds, over a
 * whole year (so monthly and weekday schedules count right); null when the
 * expression cannot be read or never fires.
 * @example cronPeriodSeconds('*∕10 * * * *') === 600
 */
export function cronPeriodSeconds(expression: string): number | null {
  let fields = expression.trim().split(/\s+/);
  if (fields.length === 6) fields = fields.slice(1);
  if (fields.length !== 5) return null;
  const sets = fields.map((field, i) => fieldValues(field, FIELDS[i].min, FIELDS[i].max));
  if (sets.some((set) => set === null)) return null;
  const [minutes, hours, days, months, weekdays] = sets as Set<number>[];
  if (weekdays.has(7)) weekdays.add(0);
  // Cron's rule: when both day fields are restricted, a day matching either one fires.
  const anyDay = fields[2] === '*';
  const anyWeekday = fields[4] === '*';
  const dayMatches = (date: Date): boolean => {
    const byDay = days.has(date.getUTCDate());
    const byWeekday = weekdays.has(date.getUTCDay());
    if (anyDay && anyWeekday) return true;
    if (anyDay) return byWeekday;
    if (anyWeekday) return byDay;
    return byDay || byWeekday;
  };
  // A year from a fixed instant, day by day, then the allowed minutes of each matching day.
  const start = Date.UTC(2025, 0, 1);
  const firings: number[] = [];
  const sortedHours = [...hours].sort((a, b) => a - b);
  const sortedMinutes = [...minutes].sort((a, b) => a - b);
  for (let day = 0; day < 366 + 31; day++) {
    const date = new Date(start + day * 86_400_000);
    if (!months.has(date.getUTCMonth() + 1) || !dayMatches(date)) continue;
    for (const hour of sortedHours) for (const minute of sortedMinutes) firings.push(date.getTime() + (hour * 60 + minute) * 60_000);
  }
  if (firings.length < 2) return null;
  let longest = 0;
  for (let i = 1; i < firings.length; i++) longest = Math.max(longest, firings[i] - firings[i - 1]);
  return longest / 1000;
}
