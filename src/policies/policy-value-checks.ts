/**
 * Checks of single values in policy files: names, actions, times, dates and zones. Each
 * returns what is wrong in words an administrator can act on, or undefined.
 */
import { ACTION_CATALOGUE, CUSTOM_ACTION_PATTERN, NAME_PATTERN } from './policy-vocabulary.js';

function closest(value: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const option of options) {
    const d = editDistance(value.toLowerCase(), option.toLowerCase());
    if (d < bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** " (did you mean 'x'?)" when one of the options is close, else "". */
export function didYouMean(value: string, options: readonly string[]): string {
  const c = closest(value, options);
  return c === undefined || c === value ? '' : ` (did you mean '${c}'?)`;
}

export function nameProblem(what: string) {
  return (v: string): string | undefined =>
    NAME_PATTERN.test(v)
      ? undefined
      : `bad ${what} '${v}': use 1 to 100 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`;
}

export function actionProblem(v: string): string | undefined {
  if (v === '*' || (ACTION_CATALOGUE as readonly string[]).includes(v)) return undefined;
  if (v.startsWith('x-')) {
    return CUSTOM_ACTION_PATTERN.test(v)
      ? undefined
      : `bad custom action '${v}': x- and then lowercase letters, digits, '.', '_' or '-'`;
  }
  return `unknown action '${v}'${didYouMean(v, ACTION_CATALOGUE)}: expected one of ${ACTION_CATALOGUE.join(', ')}, a custom x-<name>, or '*'`;
}

export function deviceRefProblem(v: string): string | undefined {
  if (v === '*') return undefined;
  return nameProblem('device group name')(v);
}

/** "HH:MM" from 00:00 to 23:59, and "24:00" when `endOfDay`. */
export function timeProblem(v: string, endOfDay: boolean): string | undefined {
  if (/^([01]\d|2[0-3]):[0-5]\d$/.test(v) || (endOfDay && v === '24:00')) return undefined;
  return `bad time '${v}': expected HH:MM from 00:00 to 23:59${endOfDay ? ', or 24:00' : ''}`;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** A local date and time "YYYY-MM-DDTHH:MM". */
export function localDateTimeProblem(v: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(v);
  if (m && validDate(+m[1], +m[2], +m[3]) && +m[4] <= 23 && +m[5] <= 59) return undefined;
  return `bad local date and time '${v}': expected YYYY-MM-DDTHH:MM, like 2026-12-24T20:00`;
}

/** An instant with its zone: "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)". */
export function instantProblem(v: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/.exec(v);
  if (
    m &&
    validDate(+m[1], +m[2], +m[3]) &&
    +m[4] <= 23 &&
    +m[5] <= 59 &&
    +(m[6] ?? 0) <= 59 &&
    +(m[7] ?? 0) <= 23 &&
    +(m[8] ?? 0) <= 59
  ) {
    return undefined;
  }
  return `bad date and time '${v}': expected an ISO 8601 date and time with its zone, like 2026-12-01T00:00:00Z or 2026-12-01T00:00+01:00`;
}

let zones: Set<string> | undefined;

/** An IANA time zone name (or an alias of one, such as Etc/UTC or US/Eastern), or UTC. */
export function timeZoneProblem(v: string): string | undefined {
  zones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (v === 'UTC' || zones.has(v)) return undefined;
  let resolved: string | undefined;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    resolved = undefined;
  }
  // ICU also takes offsets ("+01:00") and any letter case; only names as IANA spells them pass.
  if (resolved !== undefined && /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/.test(v)) return undefined;
  const hint =
    resolved !== undefined && resolved !== v && !/^[+-]/.test(v)
      ? ` (did you mean '${resolved}'?)`
      : didYouMean(v, [...zones]);
  return `unknown time zone '${v}'${hint}: expected an IANA name such as Europe/Paris, or UTC`;
}

export function directoryGroupProblem(v: string): string | undefined {
  return v.trim() === v ? undefined : `group name '${v}' has leading or trailing spaces`;
}
