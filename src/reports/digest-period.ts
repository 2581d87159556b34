import { instantOfLocalTime } from '../console/local-time.js';

export type DigestPeriod = 'daily' | 'weekly';

/** A digest's span: [from, to) in the hospital's zone; `date` is its first day (a Monday for weekly). */
export interface DigestSpan {
  period: DigestPeriod;
  date: string;
  from: Date;
  to: Date;
}

const DAY_MS = 86_400_000;
const plainDay = (date: string): number => Date.parse(`${date}T00:00:00Z`);
const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The calendar date `at` falls on in `timeZone` (YYYY-MM-DD). */
export function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The day, or the week (Monday to Sunday) containing `date`, from local midnight to local midnight. */
export function digestSpan(period: DigestPeriod, date: string, timeZone: string): DigestSpan {
  let first = plainDay(date);
  if (period === 'weekly') first -= ((new Date(first).getUTCDay() + 6) % 7) * DAY_MS; // back to Monday
  const days = period === 'weekly' ? 7 : 1;
  const start = dateOf(first);
  return {
    period,
    date: start,
    from: instantOfLocalTime(`${start}T00:00`, timeZone)!,
    to: instantOfLocalTime(`${dateOf(first + days * DAY_MS)}T00:00`, timeZone)!,
  };
}

/** The last whole day or week before `now`, in `timeZone`: what the scheduled digest covers. */
export function lastCompleteSpan(period: DigestPeriod, now: Date, timeZone: string): DigestSpan {
  const today = plainDay(localDate(now, timeZone));
  return digestSpan(period, dateOf(today - (period === 'weekly' ? 7 : 1) * DAY_MS), timeZone);
}
