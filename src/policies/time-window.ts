/**
 * The time conditions of a rule's `when`, compiled once so that a decision checks them in
 * a fraction of a microsecond.
 *
 * Semantics (../shared/docs/policy-files.md, "Semantics"):
 * - `windows` and `dates` are both sets of local wall-clock times in `timezone`; together
 *   they are ONE condition, "the local time lies in one of the windows or dates". So a rule
 *   open mon-fri 08:00-18:00 with a one-off date for Christmas Eve night is open in either;
 *   requiring both would make a date outside the weekly windows useless. When neither key
 *   is given there is no time-of-day condition; a key given with an empty list contributes
 *   nothing (so `windows: []` alone never matches: the loader should refuse empty lists).
 * - `validFrom` (inclusive) and `validUntil` (exclusive) are absolute instants and must hold
 *   as well: the time condition is (windows OR dates) AND validFrom AND validUntil.
 *   `deviceState` is not a time condition and is checked elsewhere.
 * - A window is checked on the local time of the instant: a local time skipped by a
 *   spring-forward change never occurs, one repeated by a fall-back change matches both
 *   times. `from` is inclusive and `to` exclusive, both "HH:MM" ("24:00" allowed as `to`).
 *   A window whose `to` is not after its `from` crosses midnight and belongs to the day it
 *   starts on: {days: [sat], from: 22:00, to: 02:00} is Saturday 22:00 to Sunday 02:00;
 *   `to` equal to `from` is a whole 24 hours (the loader may want to refuse it).
 * - `dates` are local "YYYY-MM-DDTHH:MM" ranges, `from` inclusive, `to` exclusive, read like
 *   windows (local time in range); one whose `to` is not after its `from` is empty.
 * - A missing `timezone` means UTC (the loader requires one with windows).
 * Values that cannot be parsed make compileWhen throw a RangeError, so that a rule the
 * loader let through by mistake fails loudly instead of matching at random.
 */
import type { Weekday, WhenCondition } from './policy.types.js';
import {
  civilToEpochDay,
  DAY_MINUTES,
  epochDayToDateKey,
  MINUTE_MS,
  weekdayOfEpochDay,
  type ZoneOffsetCache,
  zoneOffsetCache,
} from './zone-offsets.js';

/** Weekdays in the order of their numbers (mon = 0). */
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEK_MINUTES = 7 * DAY_MINUTES;
/** Local minute 0 (1970-01-01T00:00) was a Thursday: its minute of the Monday-based week. */
const EPOCH_WEEK_MINUTE = 3 * DAY_MINUTES;
/** windowEnd gives up (answering the last instant it knows to match) after this many offset periods. */
const MAX_PERIODS_WALKED = 1000;

/** Minutes since midnight of "HH:MM"; "24:00" only where `allow24` is set. */
export function parseClock(text: string, allow24 = false): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  const minutes = m === null ? NaN : Number(m[1]) * 60 + Number(m[2]);
  if (!(m !== null && Number(m[2]) < 60 && (minutes < DAY_MINUTES || (allow24 && minutes === DAY_MINUTES)))) {
    throw new RangeError(`Not a time of day: ${JSON.stringify(text)}`);
  }
  return minutes;
}

/** Local minutes since 1970-01-01T00:00 of "YYYY-MM-DDTHH:MM". */
export function parseLocalDateTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})$/.exec(text);
  if (m === null) throw new RangeError(`Not a local date and time: ${JSON.stringify(text)}`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31) {
    throw new RangeError(`Not a local date and time: ${JSON.stringify(text)}`);
  }
  return civilToEpochDay(year, month, day) * DAY_MINUTES + parseClock(m[4], true);
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** "mon-fri", "sat,sun", "mon,wed-sun" from a set of days. */
function describeDays(mask: number): string {
  const parts: string[] = [];
  for (let d = 0; d < 7; d++) {
    if ((mask & (1 << d)) === 0) continue;
    let last = d;
    while (last + 1 < 7 && (mask & (1 << (last + 1))) !== 0) last++;
    if (last - d >= 2) parts.push(`${WEEKDAYS[d]}-${WEEKDAYS[last]}`);
    else for (let k = d; k <= last; k++) parts.push(WEEKDAYS[k]);
    d = last;
  }
  return parts.join(',');
}

/** Sorted, disjoint, non-adjacent [start, end) runs of a set given as start/end pairs. */
function mergeRuns(ranges: [number, number][]): [number, number][] {
  const sorted = ranges.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const runs: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = runs[runs.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
    else runs.push([s, e]);
  }
  return runs;
}

/** The compiled time conditions of one rule. */
export class CompiledWhen {
  /** The zone windows and dates are read in; null when the rule has neither. */
  readonly timeZone: string | null;
  private readonly validFrom: number;
  private readonly validUntil: number;
  private readonly zone: ZoneOffsetCache | null;
  /** Minutes of the Monday-based week in a window, one bit each; null when no `windows`. */
  private readonly weekBits: Int32Array | null;
  /** The same minutes as sorted [start, end) runs within 0…WEEK_MINUTES. */
  private readonly weekRuns: [number, number][];
  private readonly weekFull: boolean;
  /** `dates` as sorted, disjoint [start, end) local minutes since the epoch. */
  private readonly dateStarts: Float64Array;
  private readonly dateEnds: Float64Array;
  private readonly description: string;

  constructor(when: WhenCondition) {
    this.validFrom = when.validFrom === undefined ? -Infinity : when.validFrom.getTime();
    this.validUntil = when.validUntil === undefined ? Infinity : when.validUntil.getTime();
    const hasTime = when.windows !== undefined || when.dates !== undefined;
    this.timeZone = hasTime ? (when.timezone ?? 'UTC') : null;
    this.zone = this.timeZone === null ? null : zoneOffsetCache(this.timeZone);

    const described: string[] = [];
    const weekRanges: [number, number][] = [];
    if (when.windows !== undefined) {
      const texts: string[] = [];
      for (const w of when.windows) {
        const from = parseClock(w.from);
        const to = parseClock(w.to, true);
        let mask = 0;
        for (const day of w.days) {
          const d = WEEKDAYS.indexOf(day);
          if (d < 0) throw new RangeError(`Not a weekday: ${JSON.stringify(day)}`);
          mask |= 1 << d;
          const start = d * DAY_MINUTES + from;
          // Not after `from`: the window runs into the next day, and past Sunday into Monday.
          const end = d * DAY_MINUTES + (to > from ? to : to + DAY_MINUTES);
          weekRanges.push([start, Math.min(end, WEEK_MINUTES)]);
          if (end > WEEK_MINUTES) weekRanges.push([0, end - WEEK_MINUTES]);
        }
        texts.push(`${describeDays(mask)} ${hhmm(from)}-${hhmm(to)}`);
      }
      described.push(`windows ${texts.length > 0 ? texts.join(', ') : '(none)'}`);
    }
    this.weekRuns = mergeRuns(weekRanges);
    const bits = new Int32Array(Math.ceil(WEEK_MINUTES / 32));
    for (const [s, e] of this.weekRuns) for (let m = s; m < e; m++) bits[m >>> 5] |= 1 << (m & 31);
    this.weekBits = when.windows === undefined ? null : bits;
    this.weekFull = this.weekRuns.length === 1 && this.weekRuns[0][0] === 0 && this.weekRuns[0][1] === WEEK_MINUTES;

    const dateRuns = mergeRuns((when.dates ?? []).map((d) => [parseLocalDateTime(d.from), parseLocalDateTime(d.to)]));
    this.dateStarts = Float64Array.from(dateRuns, (r) => r[0]);
    this.dateEnds = Float64Array.from(dateRuns, (r) => r[1]);
    if (when.dates !== undefined) {
      const texts = when.dates.map((d) => `${d.from}-${d.to}`);
      described.push(`dates ${texts.length > 0 ? texts.join(', ') : '(none)'}`);
    }
    this.description = `${described.join(' or ')} ${this.timeZone ?? ''}`;
  }

  /** Whether the instant (ms since the epoch) satisfies validFrom, validUntil, windows and dates. */
  timeMatches(instantMs: number): boolean {
    // Written so that NaN fails.
    if (!(instantMs >= this.validFrom && instantMs < this.validUntil)) return false;
    if (this.zone === null) return true;
    return this.localMatches(this.zone.localMinuteAt(instantMs));
  }

  /** Why the instant does not match, for people (the simulator); null when it matches. */
  firstNonMatch(instantMs: number): string | null {
    if (Number.isNaN(instantMs)) return 'no valid instant';
    if (instantMs < this.validFrom) return `not valid before ${new Date(this.validFrom).toISOString()}`;
    if (instantMs >= this.validUntil) return `not valid from ${new Date(this.validUntil).toISOString()} on`;
    if (this.zone === null) return null;
    const local = this.zone.localMinuteAt(instantMs);
    if (this.localMatches(local)) return null;
    const day = Math.floor(local / DAY_MINUTES);
    const at = `${WEEKDAYS[weekdayOfEpochDay(day)]} ${epochDayToDateKey(day)} ${hhmm(local - day * DAY_MINUTES)}`;
    return `outside ${this.description} (local time ${at})`;
  }

  /**
   * The first instant from which the conditions stop holding, for an answer's validUntil:
   * the end of the window or date the instant lies in (the union of all of them, across
   * offset changes) or validUntil, whichever comes first; null when nothing ends (no
   * windows, dates nor validUntil, or windows covering the whole week). An instant that
   * does not match gets itself back: its match has already ended.
   */
  windowEnd(instantMs: number): number | null {
    if (!this.timeMatches(instantMs)) return instantMs;
    let end = this.validUntil;
    if (this.zone !== null && !this.weekFull) end = Math.min(end, this.localEnd(this.zone, instantMs));
    return end === Infinity ? null : end;
  }

  private localMatches(localMinute: number): boolean {
    const bits = this.weekBits;
    if (bits !== null) {
      const w = (((localMinute + EPOCH_WEEK_MINUTE) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
      if ((bits[w >>> 5] & (1 << (w & 31))) !== 0) return true;
    }
    const starts = this.dateStarts;
    for (let i = 0; i < starts.length && starts[i] <= localMinute; i++) {
      if (localMinute < this.dateEnds[i]) return true;
    }
    return false;
  }

  /** The first instant at or after a matching one whose local time is outside all windows and dates. */
  private localEnd(zone: ZoneOffsetCache, instantMs: number): number {
    let at = instantMs;
    for (let walked = 0; walked < MAX_PERIODS_WALKED; walked++) {
      const period = zone.periodAt(at);
      const local = Math.floor((at + period.offsetMs) / MINUTE_MS);
      const runEnd = this.localRunEnd(local);
      if (runEnd === local) return at;
      // INVARIANT: within one offset period local time runs with the instant, so every local
      // minute from `local` to `runEnd` occurs, in order, before the instant of `runEnd`.
      const end = runEnd * MINUTE_MS - period.offsetMs;
      if (end < period.end) return end;
      at = period.end;
    }
    return at;
  }

  /** The first local minute from `localMinute` on that is in neither a window nor a date. */
  private localRunEnd(localMinute: number): number {
    let at = localMinute;
    for (;;) {
      let next = at;
      if (this.weekBits !== null) {
        const w = (((at + EPOCH_WEEK_MINUTE) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
        const run = this.weekRuns.find(([s, e]) => s <= w && w < e);
        if (run !== undefined) {
          let length = run[1] - w;
          // A run to the end of Sunday goes on with one from Monday 00:00.
          if (run[1] === WEEK_MINUTES && this.weekRuns[0][0] === 0) length += this.weekRuns[0][1];
          next = at + length;
        }
      }
      for (let i = 0; i < this.dateStarts.length; i++) {
        if (this.dateStarts[i] <= at && at < this.dateEnds[i]) next = Math.max(next, this.dateEnds[i]);
      }
      if (next === at) return at;
      at = next;
    }
  }
}

/** Compiles a rule's `when` (validated by the loader) into its time conditions. */
export function compileWhen(when: WhenCondition): CompiledWhen {
  return new CompiledWhen(when);
}
