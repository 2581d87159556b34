/**
 * UTC offsets of IANA time zones, fast enough for the decision path.
 *
 * Asking `Intl.DateTimeFormat` for a local time costs microseconds; a zone's offset only
 * changes at its transitions (daylight saving, law changes), a few times a year. So each
 * zone keeps the offset period [start, end) it was last asked about, found once with Intl
 * by probing and binary search; an instant inside it costs two comparisons.
 *
 * Weekdays are numbered from Monday: mon = 0 … sun = 6. Days are counted from 1970-01-01
 * (day 0, a Thursday) in the zone's local calendar.
 */

export const MINUTE_MS = 60_000;
export const DAY_MINUTES = 1440;
const SECOND_MS = 1000;
const DAY_MS = 86_400_000;

/**
 * Distance between probes when looking for a transition.
 * INVARIANT: no zone holds an offset for less than PROBE_STEP_MS, so probes this far apart
 * never step over a pair of transitions, and between two probes that differ there is
 * exactly one transition. (Scanning every zone of ICU's tzdata 2025c from 1970 to 2040
 * every 3 hours, the shortest period is 6.9 days: America/Boa_Vista in October 2000.)
 */
const PROBE_STEP_MS = DAY_MS;
/** How far a period is searched for; beyond, a period is cut short (and found again later). */
const HORIZON_AHEAD_MS = 62 * DAY_MS;
const HORIZON_BEHIND_MS = 31 * DAY_MS;
/** Periods a zone remembers besides the current one (for the simulator and windowEnd). */
const MAX_REMEMBERED_PERIODS = 16;

/** A stretch of time [start, end) during which a zone's offset does not change. */
export interface OffsetPeriod {
  readonly start: number;
  readonly end: number;
  /** Local time minus UTC, in milliseconds (whole minutes for every zone since 1970). */
  readonly offsetMs: number;
}

/** Local calendar parts of an instant in a zone. */
export interface LocalParts {
  /** mon = 0 … sun = 6. */
  weekday: number;
  /** 0 … 1439. */
  minutesOfDay: number;
  /** Local date as days since 1970-01-01 (see `epochDayToDateKey`). */
  epochDay: number;
  /** Local date, 'YYYY-MM-DD'. */
  dateKey: string;
  /** UTC offset in minutes in force at the instant. */
  offsetMinutes: number;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1…12). */
export function civilToEpochDay(year: number, month: number, day: number): number {
  // H. Hinnant's days_from_civil: exact for every year, unlike Date.UTC (years 0…99).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** 'YYYY-MM-DD' of a day counted from 1970-01-01. */
export function epochDayToDateKey(epochDay: number): string {
  const z = epochDay + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const yyyy = year < 0 ? '-' + String(-year).padStart(6, '0') : String(year).padStart(4, '0');
  return `${yyyy}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** mon = 0 … sun = 6 of a day counted from 1970-01-01 (a Thursday). */
export function weekdayOfEpochDay(epochDay: number): number {
  return (((epochDay + 3) % 7) + 7) % 7;
}

/**
 * Whether Intl knows `name` as a time zone. Names are matched as Intl matches them
 * (case-insensitively, aliases such as 'UTC' or 'US/Eastern' included); bare offsets
 * ('+05:00') are refused, as they are not IANA zones.
 */
export function isValidTimeZone(name: string): boolean {
  if (typeof name !== 'string' || name.length === 0 || /^[+-]/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

// "12/31/2026 AD, 23:59:59" from en-US with the options below.
const FORMATTED = /^(\d+)\/(\d+)\/(\d+) (AD|BC), (\d+):(\d+):(\d+)$/;

/** The offsets of one zone, with the period last asked about kept for the fast path. */
export class ZoneOffsetCache {
  readonly zone: string;
  // The current period, as plain fields so the fast path is two comparisons.
  private start = 0;
  private end = 0;
  private offsetMs = 0;
  private readonly remembered: OffsetPeriod[] = [];
  private readonly format: Intl.DateTimeFormat;

  /** @throws RangeError when Intl does not know the zone. */
  constructor(zone: string) {
    if (!isValidTimeZone(zone)) throw new RangeError(`Unknown time zone: ${zone}`);
    this.zone = zone;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local time minus UTC at the instant, in milliseconds. */
  offsetMsAt(instantMs: number): number {
    // The fast path: the instant lies in the current period.
    if (instantMs >= this.start && instantMs < this.end) return this.offsetMs;
    return this.switchTo(instantMs).offsetMs;
  }

  offsetMinutesAt(instantMs: number): number {
    return this.offsetMsAt(instantMs) / MINUTE_MS;
  }

  /** Local minutes since 1970-01-01T00:00 (local) at the instant. */
  localMinuteAt(instantMs: number): number {
    const offset = instantMs >= this.start && instantMs < this.end ? this.offsetMs : this.switchTo(instantMs).offsetMs;
    return Math.floor((instantMs + offset) / MINUTE_MS);
  }

  localParts(instantMs: number): LocalParts {
    const offsetMs = this.offsetMsAt(instantMs);
    const localMinute = Math.floor((instantMs + offsetMs) / MINUTE_MS);
    const epochDay = Math.floor(localMinute / DAY_MINUTES);
    return {
      weekday: weekdayOfEpochDay(epochDay),
      minutesOfDay: localMinute - epochDay * DAY_MINUTES,
      epochDay,
      dateKey: epochDayToDateKey(epochDay),
      offsetMinutes: offsetMs / MINUTE_MS,
    };
  }

  /**
   * A period holding the instant. It does not become the current one, so looking ahead
   * (as windowEnd does) leaves the fast path of the present alone.
   */
  periodAt(instantMs: number): OffsetPeriod {
    if (instantMs >= this.start && instantMs < this.end) {
      return { start: this.start, end: this.end, offsetMs: this.offsetMs };
    }
    return this.lookUp(instantMs);
  }

  private switchTo(instantMs: number): OffsetPeriod {
    const period = this.lookUp(instantMs);
    this.start = period.start;
    this.end = period.end;
    this.offsetMs = period.offsetMs;
    return period;
  }

  private lookUp(instantMs: number): OffsetPeriod {
    if (!Number.isFinite(instantMs)) throw new RangeError(`Not an instant: ${instantMs}`);
    for (const p of this.remembered) if (instantMs >= p.start && instantMs < p.end) return p;
    const period = this.findPeriod(instantMs);
    if (this.remembered.length >= MAX_REMEMBERED_PERIODS) this.remembered.shift();
    this.remembered.push(period);
    return period;
  }

  /** Probes Intl a day apart around the instant, then bisects to the second. */
  private findPeriod(instantMs: number): OffsetPeriod {
    // Transitions fall on whole seconds, so the offset of a second is that of its start.
    const at = Math.floor(instantMs / SECOND_MS) * SECOND_MS;
    const offsetMs = this.probe(at);

    let end = at + HORIZON_AHEAD_MS;
    for (let before = at, next = at + PROBE_STEP_MS; next <= at + HORIZON_AHEAD_MS; next += PROBE_STEP_MS) {
      if (this.probe(next) !== offsetMs) {
        end = this.bisect(before, next, offsetMs);
        break;
      }
      before = next;
    }

    let start = at - HORIZON_BEHIND_MS;
    for (let after = at, prev = at - PROBE_STEP_MS; prev >= at - HORIZON_BEHIND_MS; prev -= PROBE_STEP_MS) {
      if (this.probe(prev) !== offsetMs) {
        start = this.bisect(prev, after, this.probe(prev));
        break;
      }
      after = prev;
    }
    return { start, end, offsetMs };
  }

  /**
   * The first second in (low, high] whose offset is not `lowOffset`, given that `low`
   * has it and `high` does not (one transition between them, see PROBE_STEP_MS).
   */
  private bisect(low: number, high: number, lowOffset: number): number {
    while (high - low > SECOND_MS) {
      const mid = low + Math.floor((high - low) / 2 / SECOND_MS) * SECOND_MS;
      if (this.probe(mid) === lowOffset) low = mid;
      else high = mid;
    }
    return high;
  }

  /** The offset at a whole second, from Intl (the slow path). */
  private probe(instantMs: number): number {
    const text = this.format.format(instantMs);
    const m = FORMATTED.exec(text);
    let year: number, month: number, day: number, hour: number, minute: number, second: number;
    if (m !== null) {
      year = m[4] === 'BC' ? 1 - Number(m[3]) : Number(m[3]);
      [month, day, hour, minute, second] = [m[1], m[2], m[5], m[6], m[7]].map(Number);
    } else {
      // A different ICU may lay the date out otherwise; the parts are the same.
      const parts: Record<string, string> = {};
      for (const p of this.format.formatToParts(instantMs)) parts[p.type] = p.value;
      year = parts.era === 'BC' || parts.era === 'B' ? 1 - Number(parts.year) : Number(parts.year);
      [month, day, hour, minute, second] = [parts.month, parts.day, parts.hour, parts.minute, parts.second].map(Number);
    }
    const localMs = civilToEpochDay(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * SECOND_MS;
    return localMs - instantMs;
  }
}

const caches = new Map<string, ZoneOffsetCache>();

/** The shared cache of a zone. @throws RangeError when Intl does not know the zone. */
export function zoneOffsetCache(zone: string): ZoneOffsetCache {
  let cache = caches.get(zone);
  if (cache === undefined) {
    cache = new ZoneOffsetCache(zone);
    caches.set(zone, cache);
  }
  return cache;
}

/** UTC offset in minutes in force in `zone` at the instant (+60 for Paris in winter). */
export function offsetMinutes(zone: string, instantMs: number): number {
  return zoneOffsetCache(zone).offsetMinutesAt(instantMs);
}

/** Local weekday, time of day and date of the instant in `zone`. */
export function localParts(zone: string, instantMs: number): LocalParts {
  return zoneOffsetCache(zone).localParts(instantMs);
}
