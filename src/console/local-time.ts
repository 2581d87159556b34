import { offsetMinutes } from '../policies/zone-offsets.js';

/**
 * The instant a wall-clock time of the hospital's zone stands for ("2026-03-29T02:30" from a
 * datetime-local field). Two rounds of the zone's offset settle on the right side of a change;
 * a time that a spring-forward skips lands an hour later, as clocks do.
 */
export function instantOfLocalTime(local: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  if (Number.isNaN(asUtc)) return null;
  let instant = asUtc - offsetMinutes(timeZone, asUtc) * 60_000;
  instant = asUtc - offsetMinutes(timeZone, instant) * 60_000;
  return new Date(instant);
}
