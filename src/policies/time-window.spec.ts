import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from '@swc/core';
import type { RecurringWindow, WhenCondition } from './policy.types.js';
import { type CompiledWhen, compileWhen } from './time-window.js';

// Every expected instant below is UTC, worked out from the zone's rules and checked
// against Intl (tzdata 2025c); nothing here reads the real clock or the machine's zone.
const MINUTE = 60_000;
const at = (isoUtc: string): number => {
  const ms = Date.parse(isoUtc);
  if (Number.isNaN(ms)) throw new Error(`bad instant ${isoUtc}`);
  return ms;
};
const iso = (ms: number): string => new Date(ms).toISOString().replace(':00.000Z', 'Z');

/** The spans (start/end, UTC, to the minute) in which the conditions hold between two instants. */
function matchingSpans(c: CompiledWhen, from: string, to: string): string[] {
  const spans: string[] = [];
  let start: number | null = null;
  for (let t = at(from); t < at(to); t += MINUTE) {
    const matches = c.timeMatches(t);
    if (matches && start === null) start = t;
    if (!matches && start !== null) {
      spans.push(`${iso(start)}/${iso(t)}`);
      start = null;
    }
  }
  if (start !== null) spans.push(`${iso(start)}/…`);
  return spans;
}

/** Holds from `start` (inclusive) to `end` (exclusive), to the millisecond, and ends at `end`. */
function expectSpan(c: CompiledWhen, start: string, end: string): void {
  expect(c.timeMatches(at(start) - 1)).toBe(false);
  expect(c.timeMatches(at(start))).toBe(true);
  expect(c.timeMatches(at(end) - 1)).toBe(true);
  expect(c.timeMatches(at(end))).toBe(false);
  expect(iso(c.windowEnd(at(start)) ?? NaN)).toBe(iso(at(end)));
}

const windowIn = (timezone: string, ...windows: RecurringWindow[]): CompiledWhen => compileWhen({ timezone, windows });

describe('recurring windows', () => {
  it('holds in local wall-clock time, from inclusive and to exclusive', () => {
    const c = windowIn('Europe/Paris', { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' });
    // Monday 2026-11-23 and Saturday 2026-11-28, CET (+01:00).
    expectSpan(c, '2026-11-23T07:00Z', '2026-11-23T17:00Z');
    expect(matchingSpans(c, '2026-11-27T00:00Z', '2026-11-30T00:00Z')).toEqual(['2026-11-27T07:00Z/2026-11-27T17:00Z']);
    // The same window in summer (CEST, +02:00) is the same wall-clock hours.
    expectSpan(c, '2026-06-15T06:00Z', '2026-06-15T16:00Z');
  });

  it('takes "24:00" as the end of the day', () => {
    const c = windowIn('Asia/Kathmandu', { days: ['tue'], from: '20:00', to: '24:00' });
    // Kathmandu is +05:45: Tuesday 2026-11-24 20:00 local is 14:15Z.
    expect(matchingSpans(c, '2026-11-23T00:00Z', '2026-11-27T00:00Z')).toEqual(['2026-11-24T14:15Z/2026-11-24T18:15Z']);
  });

  it('runs a window across midnight into the next day, and only from the day it starts on', () => {
    const c = windowIn('Europe/Paris', { days: ['sat'], from: '22:00', to: '02:00' });
    // Sat 2026-06-13 22:00 to Sun 02:00 (CEST). Not Saturday 00:00-02:00, not Sunday 22:00.
    expect(matchingSpans(c, '2026-06-12T00:00Z', '2026-06-16T00:00Z')).toEqual(['2026-06-13T20:00Z/2026-06-14T00:00Z']);
    expectSpan(c, '2026-06-13T20:00Z', '2026-06-14T00:00Z');
  });

  it('runs a Sunday window across midnight into Monday', () => {
    const c = windowIn('UTC', { days: ['sun'], from: '23:00', to: '01:00' });
    expect(matchingSpans(c, '2026-11-22T00:00Z', '2026-11-24T00:00Z')).toEqual(['2026-11-22T23:00Z/2026-11-23T01:00Z']);
    expect(c.timeMatches(at('2026-11-23T00:30Z'))).toBe(true); // Monday 00:30: Sunday's window
  });

  it('reads `to` equal to `from` as a whole 24 hours', () => {
    const c = windowIn('UTC', { days: ['wed'], from: '08:00', to: '08:00' });
    expect(matchingSpans(c, '2026-11-24T00:00Z', '2026-11-27T00:00Z')).toEqual(['2026-11-25T08:00Z/2026-11-26T08:00Z']);
  });

  it('merges windows that touch or overlap, also for windowEnd', () => {
    const c = windowIn(
      'UTC',
      { days: ['mon'], from: '08:00', to: '12:00' },
      { days: ['mon'], from: '12:00', to: '14:00' },
      { days: ['mon'], from: '13:00', to: '15:00' },
    );
    expect(matchingSpans(c, '2026-11-23T00:00Z', '2026-11-24T00:00Z')).toEqual(['2026-11-23T08:00Z/2026-11-23T15:00Z']);
    expect(iso(c.windowEnd(at('2026-11-23T09:00Z')) ?? NaN)).toBe('2026-11-23T15:00Z');
  });

  it('never matches with an empty list of windows', () => {
    const c = compileWhen({ timezone: 'UTC', windows: [] });
    expect(matchingSpans(c, '2026-11-23T00:00Z', '2026-11-30T00:00Z')).toEqual([]);
  });
});

// For each zone: a window spanning each change, and one inside the skipped or repeated local time.
describe.each([
  {
    zone: 'Europe/Paris',
    // Sun 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z; Sun 2026-10-25 03:00 CEST -> 02:00 CET at 01:00Z.
    spring: {
      span: { from: '01:00', to: '04:00', utc: ['2026-03-29T00:00Z', '2026-03-29T02:00Z'] },
      gap: { from: '02:00', to: '03:00' },
      partlyInGap: { from: '01:30', to: '03:30', utc: ['2026-03-29T00:30Z', '2026-03-29T01:30Z'] },
      day: ['2026-03-28T12:00Z', '2026-03-29T12:00Z'],
    },
    fall: {
      span: { from: '01:00', to: '04:00', utc: ['2026-10-24T23:00Z', '2026-10-25T03:00Z'] },
      repeated: { from: '02:00', to: '03:00', utc: ['2026-10-25T00:00Z', '2026-10-25T02:00Z'] },
      day: ['2026-10-24T12:00Z', '2026-10-25T12:00Z'],
    },
  },
  {
    zone: 'America/Denver',
    // Sun 2026-03-08 02:00 MST -> 03:00 MDT at 09:00Z; Sun 2026-11-01 02:00 MDT -> 01:00 MST at 08:00Z.
    spring: {
      span: { from: '01:00', to: '04:00', utc: ['2026-03-08T08:00Z', '2026-03-08T10:00Z'] },
      gap: { from: '02:00', to: '03:00' },
      partlyInGap: { from: '02:30', to: '03:30', utc: ['2026-03-08T09:00Z', '2026-03-08T09:30Z'] },
      day: ['2026-03-07T20:00Z', '2026-03-08T20:00Z'],
    },
    fall: {
      span: { from: '00:00', to: '03:00', utc: ['2026-11-01T06:00Z', '2026-11-01T10:00Z'] },
      repeated: { from: '01:00', to: '02:00', utc: ['2026-11-01T07:00Z', '2026-11-01T09:00Z'] },
      day: ['2026-10-31T20:00Z', '2026-11-01T20:00Z'],
    },
  },
  {
    zone: 'Australia/Lord_Howe',
    // Half-hour changes. Sun 2026-10-04 02:00 (+10:30) -> 02:30 (+11:00) at 2026-10-03T15:30Z;
    // Sun 2026-04-05 02:00 (+11:00) -> 01:30 (+10:30) at 2026-04-04T15:00Z.
    spring: {
      span: { from: '01:00', to: '03:00', utc: ['2026-10-03T14:30Z', '2026-10-03T16:00Z'] },
      gap: { from: '02:00', to: '02:30' },
      partlyInGap: { from: '02:15', to: '02:45', utc: ['2026-10-03T15:30Z', '2026-10-03T15:45Z'] },
      day: ['2026-10-03T00:00Z', '2026-10-04T00:00Z'],
    },
    fall: {
      span: { from: '01:00', to: '03:00', utc: ['2026-04-04T14:00Z', '2026-04-04T16:30Z'] },
      repeated: { from: '01:30', to: '02:00', utc: ['2026-04-04T14:30Z', '2026-04-04T15:30Z'] },
      day: ['2026-04-04T00:00Z', '2026-04-05T00:00Z'],
    },
  },
])('daylight saving in $zone', ({ zone, spring, fall }) => {
  const sunday = (w: { from: string; to: string }) => windowIn(zone, { days: ['sun'], from: w.from, to: w.to });

  it('spring forward: a window spanning the change holds for its local hours, shorter in real time', () => {
    const c = sunday(spring.span);
    expect(matchingSpans(c, spring.day[0], spring.day[1])).toEqual([spring.span.utc.join('/')]);
    expectSpan(c, spring.span.utc[0], spring.span.utc[1]);
  });

  it('spring forward: a window inside the skipped local time does not occur that day', () => {
    expect(matchingSpans(sunday(spring.gap), spring.day[0], spring.day[1])).toEqual([]);
  });

  it('spring forward: a window partly inside the skipped time holds for the local times that exist', () => {
    const c = sunday(spring.partlyInGap);
    expect(matchingSpans(c, spring.day[0], spring.day[1])).toEqual([spring.partlyInGap.utc.join('/')]);
    expectSpan(c, spring.partlyInGap.utc[0], spring.partlyInGap.utc[1]);
  });

  it('fall back: a window spanning the change holds for its local hours, longer in real time', () => {
    const c = sunday(fall.span);
    expect(matchingSpans(c, fall.day[0], fall.day[1])).toEqual([fall.span.utc.join('/')]);
    expectSpan(c, fall.span.utc[0], fall.span.utc[1]);
  });

  it('fall back: a window inside the repeated local time holds for both occurrences', () => {
    const c = sunday(fall.repeated);
    expect(matchingSpans(c, fall.day[0], fall.day[1])).toEqual([fall.repeated.utc.join('/')]);
    // windowEnd from within the first occurrence runs on through the second one.
    expectSpan(c, fall.repeated.utc[0], fall.repeated.utc[1]);
  });
});

describe('windows across midnight and a change at midnight (America/Santiago)', () => {
  // Sat 2026-09-05 24:00 (-04:00) -> Sun 01:00 (-03:00) at 2026-09-06T04:00Z;
  // Sun 2026-04-05 00:00 (-03:00) -> Sat 23:00 (-04:00) at 2026-04-05T03:00Z.
  const overnight = windowIn('America/Santiago', { days: ['sat'], from: '22:00', to: '02:00' });

  it('spring forward at midnight: Saturday 22:00 to Sunday 02:00 lasts three real hours', () => {
    expect(matchingSpans(overnight, '2026-09-05T00:00Z', '2026-09-07T00:00Z')).toEqual([
      '2026-09-06T02:00Z/2026-09-06T05:00Z',
    ]);
    expectSpan(overnight, '2026-09-06T02:00Z', '2026-09-06T05:00Z');
  });

  it('fall back at midnight: Saturday 23:00-24:00 happens twice and the window lasts five real hours', () => {
    expect(matchingSpans(overnight, '2026-04-04T00:00Z', '2026-04-06T00:00Z')).toEqual([
      '2026-04-05T01:00Z/2026-04-05T06:00Z',
    ]);
    expect(iso(overnight.windowEnd(at('2026-04-05T01:30Z')) ?? NaN)).toBe('2026-04-05T06:00Z');
    expect(iso(overnight.windowEnd(at('2026-04-05T03:30Z')) ?? NaN)).toBe('2026-04-05T06:00Z');
  });

  it('a Sunday window from midnight loses the hour that does not exist', () => {
    const c = windowIn('America/Santiago', { days: ['sun'], from: '00:00', to: '02:00' });
    expect(matchingSpans(c, '2026-09-05T12:00Z', '2026-09-06T12:00Z')).toEqual(['2026-09-06T04:00Z/2026-09-06T05:00Z']);
  });

  it('a Saturday window to midnight holds for both of its last hours', () => {
    const c = windowIn('America/Santiago', { days: ['sat'], from: '22:00', to: '24:00' });
    expect(matchingSpans(c, '2026-04-04T12:00Z', '2026-04-05T12:00Z')).toEqual(['2026-04-05T01:00Z/2026-04-05T04:00Z']);
  });
});

describe('one-off dates', () => {
  const christmasEve = { from: '2026-12-24T20:00', to: '2026-12-25T06:00' };

  it('holds from the local start (inclusive) to the local end (exclusive)', () => {
    const c = compileWhen({ timezone: 'Europe/Paris', dates: [christmasEve] });
    expect(matchingSpans(c, '2026-12-20T00:00Z', '2026-12-30T00:00Z')).toEqual(['2026-12-24T19:00Z/2026-12-25T05:00Z']);
    expectSpan(c, '2026-12-24T19:00Z', '2026-12-25T05:00Z');
  });

  it('reads local times across a change: 24 local hours are 23 real ones in spring', () => {
    const c = compileWhen({ timezone: 'Europe/Paris', dates: [{ from: '2026-03-28T12:00', to: '2026-03-29T12:00' }] });
    expectSpan(c, '2026-03-28T11:00Z', '2026-03-29T10:00Z');
  });

  it('matches when either a window or a date does', () => {
    const c = compileWhen({
      timezone: 'Europe/Paris',
      windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }],
      dates: [christmasEve],
    });
    // Thursday 2026-12-24: the window, then the date.
    expect(matchingSpans(c, '2026-12-24T00:00Z', '2026-12-26T00:00Z')).toEqual([
      '2026-12-24T07:00Z/2026-12-24T17:00Z',
      '2026-12-24T19:00Z/2026-12-25T05:00Z',
      '2026-12-25T07:00Z/2026-12-25T17:00Z',
    ]);
  });

  it('gives as windowEnd the end of a window and a date that follow each other', () => {
    const c = compileWhen({
      timezone: 'Europe/Paris',
      windows: [{ days: ['thu'], from: '08:00', to: '18:00' }],
      dates: [{ from: '2026-12-24T17:00', to: '2026-12-24T21:00' }],
    });
    expect(iso(c.windowEnd(at('2026-12-24T08:00Z')) ?? NaN)).toBe('2026-12-24T20:00Z');
  });
});

describe('validFrom and validUntil', () => {
  const validFrom = new Date('2026-12-01T00:00:00Z');
  const validUntil = new Date('2027-06-30T00:00:00Z');

  it('holds from validFrom (inclusive) to validUntil (exclusive), to the millisecond', () => {
    const c = compileWhen({ validFrom, validUntil });
    expect(c.timeMatches(validFrom.getTime() - 1)).toBe(false);
    expect(c.timeMatches(validFrom.getTime())).toBe(true);
    expect(c.timeMatches(validUntil.getTime() - 1)).toBe(true);
    expect(c.timeMatches(validUntil.getTime())).toBe(false);
    expect(c.timeMatches(NaN)).toBe(false);
  });

  it('must hold besides the windows', () => {
    const c = compileWhen({
      timezone: 'UTC',
      windows: [{ days: ['tue'], from: '08:00', to: '18:00' }],
      validFrom: new Date('2026-12-01T12:00:00Z'), // a Tuesday
    });
    expect(matchingSpans(c, '2026-11-24T00:00Z', '2026-12-02T00:00Z')).toEqual(['2026-12-01T12:00Z/2026-12-01T18:00Z']);
  });

  it('ends windowEnd at validUntil when that comes first', () => {
    const c = compileWhen({
      timezone: 'UTC',
      windows: [{ days: ['mon'], from: '08:00', to: '18:00' }],
      validUntil: new Date('2026-11-23T12:00:00Z'),
    });
    expect(c.windowEnd(at('2026-11-23T09:00Z'))).toBe(at('2026-11-23T12:00Z'));
  });
});

describe('windowEnd', () => {
  it('is null when nothing ends', () => {
    expect(compileWhen({}).windowEnd(at('2026-11-23T09:00Z'))).toBeNull();
    const always = windowIn('Europe/Paris', {
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      from: '00:00',
      to: '24:00',
    });
    expect(always.windowEnd(at('2026-11-23T09:00Z'))).toBeNull();
  });

  it('is validUntil when there are no windows', () => {
    const c = compileWhen({ validUntil: new Date('2027-01-01T00:00:00Z') });
    expect(c.windowEnd(at('2026-11-23T09:00Z'))).toBe(at('2027-01-01T00:00Z'));
  });

  it('is the instant itself when the instant does not match', () => {
    const c = windowIn('UTC', { days: ['mon'], from: '08:00', to: '18:00' });
    expect(c.windowEnd(at('2026-11-23T19:00Z'))).toBe(at('2026-11-23T19:00Z'));
  });

  it('follows a window across a daylight-saving change', () => {
    // Paris, Sat 2026-10-24 20:00 CEST to Sun 08:00 CET: 13 real hours.
    const c = windowIn('Europe/Paris', { days: ['sat'], from: '20:00', to: '08:00' });
    expect(c.windowEnd(at('2026-10-24T18:00Z'))).toBe(at('2026-10-25T07:00Z'));
    expect(c.windowEnd(at('2026-10-25T06:59:59.999Z'))).toBe(at('2026-10-25T07:00Z'));
  });

  it('follows a long date across several changes', () => {
    const c = compileWhen({
      timezone: 'America/Denver',
      dates: [{ from: '2026-01-01T00:00', to: '2027-06-01T00:00' }],
    });
    // 2027-06-01 00:00 MDT (-06:00).
    expect(c.windowEnd(at('2026-01-01T07:00Z'))).toBe(at('2027-06-01T06:00Z'));
  });
});

describe('firstNonMatch', () => {
  const c = compileWhen({
    timezone: 'Europe/Paris',
    windows: [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' },
      { days: ['sat'], from: '22:00', to: '02:00' },
    ],
    validFrom: new Date('2026-01-01T00:00:00Z'),
    validUntil: new Date('2027-01-01T00:00:00Z'),
  });

  it('says where the local time falls outside the windows', () => {
    expect(c.firstNonMatch(at('2026-11-28T09:12Z'))).toBe(
      'outside windows mon-fri 08:00-18:00, sat 22:00-02:00 Europe/Paris (local time sat 2026-11-28 10:12)',
    );
  });

  it('names validFrom and validUntil', () => {
    expect(c.firstNonMatch(at('2025-12-31T23:59:59.999Z'))).toBe('not valid before 2026-01-01T00:00:00.000Z');
    expect(c.firstNonMatch(at('2027-01-01T00:00Z'))).toBe('not valid from 2027-01-01T00:00:00.000Z on');
  });

  it('is null when the conditions hold', () => {
    expect(c.firstNonMatch(at('2026-11-23T09:00Z'))).toBeNull();
    expect(compileWhen({}).firstNonMatch(at('2026-11-23T09:00Z'))).toBeNull();
  });

  it('describes dates and day lists', () => {
    const d = compileWhen({
      timezone: 'UTC',
      windows: [{ days: ['sun', 'mon', 'wed', 'thu', 'fri'], from: '09:00', to: '10:00' }],
      dates: [{ from: '2026-12-24T20:00', to: '2026-12-25T06:00' }],
    });
    expect(d.firstNonMatch(at('2026-11-24T09:30Z'))).toBe(
      'outside windows mon,wed-fri,sun 09:00-10:00 or dates 2026-12-24T20:00-2026-12-25T06:00 UTC (local time tue 2026-11-24 09:30)',
    );
  });
});

describe('compileWhen', () => {
  it.each<[string, WhenCondition]>([
    ['a bad time', { timezone: 'UTC', windows: [{ days: ['mon'], from: '8:00', to: '18:00' }] }],
    ['24:00 as from', { timezone: 'UTC', windows: [{ days: ['mon'], from: '24:00', to: '02:00' }] }],
    ['minutes past 59', { timezone: 'UTC', windows: [{ days: ['mon'], from: '08:60', to: '18:00' }] }],
    ['a bad day', { timezone: 'UTC', windows: [{ days: ['monday' as 'mon'], from: '08:00', to: '18:00' }] }],
    ['a bad date', { timezone: 'UTC', dates: [{ from: '2026-13-01T00:00', to: '2027-01-01T00:00' }] }],
    ['an unknown zone', { timezone: 'Europe/Atlantis', windows: [] }],
  ])('throws on %s instead of guessing', (_, when) => {
    expect(() => compileWhen(when)).toThrow(RangeError);
  });

  it('reads windows and dates in UTC when no zone is given', () => {
    const c = compileWhen({ dates: [{ from: '2026-11-23T08:00', to: '2026-11-23T09:00' }] });
    expect(c.timeZone).toBe('UTC');
    expectSpan(c, '2026-11-23T08:00Z', '2026-11-23T09:00Z');
  });
});

describe('the server zone', () => {
  // Node reads TZ once for the process (and Jest gives tests a copy of the environment),
  // so the same code runs in child processes whose clocks are set elsewhere.
  it('does not change any answer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'time-window-'));
    try {
      for (const name of ['time-window', 'zone-offsets']) {
        const source = readFileSync(new URL(`./${name}.ts`, import.meta.url), 'utf8');
        const { code } = transformSync(source, {
          filename: `${name}.ts`,
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'es6' },
        });
        writeFileSync(join(dir, `${name}.js`), code);
      }
      const script = `
        import { compileWhen } from ${JSON.stringify(join(dir, 'time-window.js'))};
        const c = compileWhen({ timezone: 'Europe/Paris', windows: [{ days: ['sun'], from: '02:00', to: '03:00' }] });
        const instants = [Date.parse('2026-10-25T00:00Z'), Date.parse('2026-10-25T01:59Z'), Date.parse('2026-10-25T02:00Z'),
          Date.parse('2026-03-29T01:00Z'), Date.parse('2026-04-05T00:30Z')];
        console.log(JSON.stringify({ local: new Date(Date.UTC(2026, 0, 1)).getHours(), answers: instants.map((t) => [c.timeMatches(t), c.windowEnd(t)]) }));
      `;
      const runIn = (tz: string) =>
        JSON.parse(
          execFileSync(process.execPath, ['--input-type=module', '-e', script], {
            env: { ...process.env, TZ: tz },
          }).toString(),
        );
      const expected = [
        [true, at('2026-10-25T02:00Z')],
        [true, at('2026-10-25T02:00Z')],
        [false, at('2026-10-25T02:00Z')],
        [false, at('2026-03-29T01:00Z')],
        [true, at('2026-04-05T01:00Z')],
      ];
      const kiritimati = runIn('Pacific/Kiritimati');
      const denver = runIn('America/Denver');
      // The clocks really were elsewhere: +14:00 and -07:00 on 2026-01-01.
      expect([kiritimati.local, denver.local]).toEqual([14, 17]);
      expect(kiritimati.answers).toEqual(expected);
      expect(denver.answers).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
