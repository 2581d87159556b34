import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  civilToEpochDay,
  epochDayToDateKey,
  isValidTimeZone,
  localParts,
  offsetMinutes,
  weekdayOfEpochDay,
  ZoneOffsetCache,
  zoneOffsetCache,
} from './zone-offsets.js';

const at = (isoUtc: string): number => Date.parse(isoUtc);
const WEEKDAY = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 } as Record<string, number>;

const formats = new Map<string, Intl.DateTimeFormat>();

/** What Intl says of the instant in the zone, the slow way. */
function intlParts(zone: string, instantMs: number) {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formats.set(zone, format);
  }
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(instantMs)) parts[p.type] = p.value;
  return {
    weekday: WEEKDAY[parts.weekday],
    minutesOfDay: Number(parts.hour) * 60 + Number(parts.minute),
    dateKey: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

// Zones with half-hour and 45-minute offsets and changes, changes at midnight, Ramadan
// breaks (Casablanca), abolished DST (Sao Paulo, Tehran), a negative DST in tzdb (Dublin),
// a two-hour change (Troll) and a southern hemisphere.
const ZONES = [
  'Europe/Paris',
  'America/Denver',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/St_Johns',
  'America/Santiago',
  'America/Havana',
  'Africa/Casablanca',
  'America/Sao_Paulo',
  'Asia/Tehran',
  'Europe/Dublin',
  'Antarctica/Troll',
  'Australia/Adelaide',
  'Asia/Gaza',
  'Pacific/Apia',
  'UTC',
];
const FROM = at('2020-01-01T00:00:00Z');
const TO = at('2036-01-01T00:00:00Z');
const HOUR = 3_600_000;

/** Offset changes of a zone between FROM and TO, found with Intl alone: daily probes, then by the minute. */
function transitions(zone: string): number[] {
  const offset = (t: number) => {
    const p = intlParts(zone, t);
    const [y, m, d] = p.dateKey.split('-').map(Number);
    return Date.UTC(y, m - 1, d) + p.minutesOfDay * 60_000 - Math.floor(t / 60_000) * 60_000;
  };
  const found: number[] = [];
  for (let t = FROM; t < TO; t += 24 * HOUR) {
    if (offset(t) === offset(t + 24 * HOUR)) continue;
    let [low, high] = [t, t + 24 * HOUR];
    while (high - low > 60_000) {
      const mid = low + Math.floor((high - low) / 120_000) * 60_000;
      if (offset(mid) === offset(low)) low = mid;
      else high = mid;
    }
    found.push(high);
  }
  return found;
}

describe('localParts', () => {
  it('agrees with Intl at random instants 2020-2035 in many zones', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: FROM, max: TO }), (zone, t) => {
        const { weekday, minutesOfDay, dateKey } = localParts(zone, t);
        expect({ weekday, minutesOfDay, dateKey }).toEqual(intlParts(zone, t));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with Intl around every offset change 2020-2035 in those zones', () => {
    const near = ZONES.flatMap((zone) => transitions(zone).map((t): [string, number] => [zone, t]));
    // Each change itself and the millisecond before it, besides the random instants around them.
    const examples = near.flatMap((change): [[string, number], number][] => [
      [change, -1],
      [change, 0],
    ]);
    // Sanity of the search itself: Paris changes twice a year.
    expect(near.filter(([zone]) => zone === 'Europe/Paris')).toHaveLength(32);
    fc.assert(
      fc.property(fc.constantFrom(...near), fc.integer({ min: -3 * HOUR, max: 3 * HOUR }), ([zone, t], delta) => {
        const { weekday, minutesOfDay, dateKey } = localParts(zone, t + delta);
        expect({ weekday, minutesOfDay, dateKey }).toEqual(intlParts(zone, t + delta));
      }),
      { numRuns: 5000, examples },
    );
  });

  it('agrees with Intl every 11 minutes of a year, walking a fresh cache through the changes', () => {
    const wrong: unknown[] = [];
    for (const zone of ['Australia/Lord_Howe', 'America/Santiago', 'Africa/Casablanca']) {
      const cache = new ZoneOffsetCache(zone);
      for (let t = at('2026-01-01T00:00Z'); t < at('2027-01-01T00:00Z'); t += 11 * 60_000) {
        const { weekday, minutesOfDay, dateKey } = cache.localParts(t);
        const intl = intlParts(zone, t);
        if (weekday !== intl.weekday || minutesOfDay !== intl.minutesOfDay || dateKey !== intl.dateKey) {
          wrong.push({ zone, at: new Date(t).toISOString(), ours: { weekday, minutesOfDay, dateKey }, intl });
        }
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});

describe('ZoneOffsetCache', () => {
  it('gives odd offsets in minutes', () => {
    expect(offsetMinutes('Asia/Kathmandu', at('2026-06-01T00:00Z'))).toBe(345);
    expect(offsetMinutes('Australia/Lord_Howe', at('2026-06-01T00:00Z'))).toBe(630);
    expect(offsetMinutes('Australia/Lord_Howe', at('2026-12-01T00:00Z'))).toBe(660);
    expect(offsetMinutes('Pacific/Chatham', at('2026-06-01T00:00Z'))).toBe(765);
    expect(offsetMinutes('America/St_Johns', at('2026-12-01T00:00Z'))).toBe(-210);
  });

  it('changes offset exactly at the transition, to the millisecond', () => {
    const paris = new ZoneOffsetCache('Europe/Paris');
    expect(paris.offsetMinutesAt(at('2026-10-25T01:00:00Z') - 1)).toBe(120);
    expect(paris.offsetMinutesAt(at('2026-10-25T01:00:00Z'))).toBe(60);
    expect(paris.offsetMinutesAt(at('2026-03-29T01:00:00Z') - 1)).toBe(60);
    expect(paris.offsetMinutesAt(at('2026-03-29T01:00:00Z'))).toBe(120);
    const lordHowe = new ZoneOffsetCache('Australia/Lord_Howe');
    expect(lordHowe.offsetMinutesAt(at('2026-10-03T15:30:00Z') - 1)).toBe(630);
    expect(lordHowe.offsetMinutesAt(at('2026-10-03T15:30:00Z'))).toBe(660);
  });

  it('bounds a period by the real transitions', () => {
    const paris = new ZoneOffsetCache('Europe/Paris');
    expect(paris.periodAt(at('2026-10-20T12:00Z')).end).toBe(at('2026-10-25T01:00Z'));
    expect(paris.periodAt(at('2026-10-26T12:00Z')).start).toBe(at('2026-10-25T01:00Z'));
    const lordHowe = new ZoneOffsetCache('Australia/Lord_Howe');
    expect(lordHowe.periodAt(at('2026-10-01T00:00Z'))).toMatchObject({
      end: at('2026-10-03T15:30Z'),
      offsetMs: 630 * 60_000,
    });
  });

  it('is shared per zone and refuses unknown zones', () => {
    expect(zoneOffsetCache('Europe/Paris')).toBe(zoneOffsetCache('Europe/Paris'));
    expect(() => new ZoneOffsetCache('Europe/Atlantis')).toThrow(RangeError);
    expect(() => localParts('Mars/Olympus_Mons', 0)).toThrow(RangeError);
  });

  it('gives weekday, time of day and date', () => {
    // Sunday 2026-10-25 02:30 happens twice in Paris.
    expect(localParts('Europe/Paris', at('2026-10-25T00:30Z'))).toEqual({
      weekday: 6,
      minutesOfDay: 150,
      epochDay: civilToEpochDay(2026, 10, 25),
      dateKey: '2026-10-25',
      offsetMinutes: 120,
    });
    expect(localParts('Europe/Paris', at('2026-10-25T01:30Z'))).toMatchObject({ minutesOfDay: 150, offsetMinutes: 60 });
  });
});

describe('isValidTimeZone', () => {
  it.each([
    ['Europe/Paris', true],
    ['Australia/Lord_Howe', true],
    ['UTC', true],
    ['Europe/Atlantis', false],
    ['', false],
    ['+05:00', false],
    ['Paris', false],
  ])('%s: %s', (name, valid) => {
    expect(isValidTimeZone(name)).toBe(valid);
  });
});

describe('calendar days', () => {
  it('count days from 1970-01-01 as Date.UTC does, and back', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (day) => {
        const date = new Date(day * 86_400_000);
        const key = date.toISOString().split('T')[0];
        expect(epochDayToDateKey(day)).toBe(key);
        expect(civilToEpochDay(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())).toBe(day);
        expect(weekdayOfEpochDay(day)).toBe((date.getUTCDay() + 6) % 7);
      }),
    );
  });
});
