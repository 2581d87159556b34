/**
 * The shape of one policy file (../shared/docs/policy-files.md) and the checks on its
 * values: names, actions, globs, times, dates and zones. Cross-file checks (duplicates,
 * references to device groups, approvers of `ask` rules) are in policy-loader.ts.
 */
import { z } from 'zod';
import { ROLES } from '../auth/roles.js';
import { globProblem } from './globs.js';

/** The actions of the agent API (../shared/docs/agent-api.md, "Action catalogue"). */
export const ACTION_CATALOGUE = [
  'remote-session',
  'file-upload',
  'file-download',
  'log-upload',
  'software-install',
  'script-run',
  'config-change',
  'restart',
] as const;

/** A custom action: `x-` and a lowercase name. */
export const CUSTOM_ACTION_PATTERN = /^x-[a-z0-9][a-z0-9._-]{0,97}$/;

/** Rule ids and device group names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The enrolled device attributes that a device group may match on. */
export const DEVICE_ATTRIBUTES = ['model', 'site', 'serialNumber', 'agentVersion', 'deviceId'] as const;

/** What an approval block that leaves these out gets (after `defaults.approval`). */
export const APPROVAL_DEFAULTS = { required: 1, timeoutMinutes: 60 } as const;

// ---------------------------------------------------------------------------------
// Value checks (each returns what is wrong, or undefined)
// ---------------------------------------------------------------------------------

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

function nameProblem(what: string) {
  return (v: string): string | undefined =>
    NAME_PATTERN.test(v)
      ? undefined
      : `bad ${what} '${v}': use 1 to 100 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`;
}

function actionProblem(v: string): string | undefined {
  if (v === '*' || (ACTION_CATALOGUE as readonly string[]).includes(v)) return undefined;
  if (v.startsWith('x-')) {
    return CUSTOM_ACTION_PATTERN.test(v)
      ? undefined
      : `bad custom action '${v}': x- and then lowercase letters, digits, '.', '_' or '-'`;
  }
  return `unknown action '${v}'${didYouMean(v, ACTION_CATALOGUE)}: expected one of ${ACTION_CATALOGUE.join(', ')}, a custom x-<name>, or '*'`;
}

function deviceRefProblem(v: string): string | undefined {
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

function directoryGroupProblem(v: string): string | undefined {
  return v.trim() === v ? undefined : `group name '${v}' has leading or trailing spaces`;
}

// ---------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------

function checked(base: z.ZodString, check: (v: string) => string | undefined) {
  return base.superRefine((v, ctx) => {
    const message = check(v);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });
}

/** A non-empty list without repeats; with `star`, '*' may only stand alone. */
function list<T extends z.ZodType<string>>(item: T, options: { star?: boolean } = {}) {
  return z
    .array(item)
    .min(1)
    .superRefine((output, ctx) => {
      const values = output as string[];
      values.forEach((v, k) => {
        if (values.indexOf(v) !== k) ctx.addIssue({ code: 'custom', message: `'${v}' is listed twice`, path: [k] });
      });
      if (options.star && values.length > 1 && values.includes('*')) {
        ctx.addIssue({ code: 'custom', message: "'*' must stand alone", path: [values.indexOf('*')] });
      }
    });
}

const nameGlob = checked(z.string(), (v) => {
  const p = globProblem(v, 'name');
  return p === undefined ? undefined : `bad pattern '${v}': ${p}`;
});
const pathGlob = checked(z.string(), (v) => {
  const p = globProblem(v, 'path');
  return p === undefined ? undefined : `bad path pattern '${v}': ${p}`;
});
const deviceRef = checked(z.string(), deviceRefProblem);
const groupRef = checked(z.string(), nameProblem('device group name'));
const directoryGroup = checked(z.string().min(1).max(1024), directoryGroupProblem);
const time = checked(z.string(), (v) => timeProblem(v, false));
const endTime = checked(z.string(), (v) => timeProblem(v, true));
const localDateTime = checked(z.string(), localDateTimeProblem);
const instant = checked(z.string(), instantProblem);
const minutes = (min: number, max: number) => z.number().int().min(min).max(max);

const approvalFields = {
  approvers: list(directoryGroup),
  required: z.number().int().min(1).max(1000),
  timeoutMinutes: minutes(1, 10080),
  maxGrantMinutes: minutes(0, 1440),
};

const ruleApprovalSchema = z.strictObject({
  approvers: approvalFields.approvers.optional(),
  required: approvalFields.required.optional(),
  timeoutMinutes: approvalFields.timeoutMinutes.optional(),
  maxGrantMinutes: approvalFields.maxGrantMinutes.optional(),
});

const defaultsApprovalSchema = z.strictObject({
  approvers: approvalFields.approvers,
  required: approvalFields.required.optional(),
  timeoutMinutes: approvalFields.timeoutMinutes.optional(),
  maxGrantMinutes: approvalFields.maxGrantMinutes.optional(),
});

const whenSchema = z.strictObject({
  timezone: checked(z.string(), timeZoneProblem).optional(),
  windows: z
    .array(z.strictObject({ days: list(z.enum(WEEKDAYS)), from: time, to: endTime }))
    .min(1)
    .optional(),
  dates: z
    .array(z.strictObject({ from: localDateTime, to: localDateTime }))
    .min(1)
    .optional(),
  validFrom: instant.optional(),
  validUntil: instant.optional(),
  deviceState: z.record(z.string().min(1).max(100), z.union([z.string().max(200), z.number(), z.boolean()])).optional(),
});

function regexProblem(v: string): string | undefined {
  if (v.length > 1000) return 'pattern longer than 1000 characters';
  try {
    new RegExp(v, 'u');
    return undefined;
  } catch (error) {
    return `bad regular expression '${v}': ${(error as Error).message}`;
  }
}

const sha256 = checked(z.string(), (v) =>
  /^[0-9a-f]{64}$/.test(v) ? undefined : `bad sha256 '${v}': 64 lowercase hexadecimal digits`,
);

const ticketSchema = z.strictObject({
  required: z.boolean().optional(),
  pattern: checked(z.string(), regexProblem).optional(),
  check: z.enum(['servicenow']).optional(),
  onUnavailable: z.enum(['deny', 'ask']).optional(),
});

export const ruleSchema = z
  .strictObject({
    id: checked(z.string(), nameProblem('rule id')),
    description: z.string().max(2000).optional(),
    effect: z.enum(['allow', 'ask', 'deny']),
    actions: list(checked(z.string(), actionProblem), { star: true }),
    devices: list(deviceRef, { star: true }),
    remoteUsers: z
      .strictObject({
        enterprises: list(nameGlob).optional(),
        users: list(nameGlob).optional(),
        groups: list(nameGlob).optional(),
      })
      .optional(),
    target: z
      .strictObject({
        paths: list(pathGlob).optional(),
        packages: list(nameGlob).optional(),
        versions: list(nameGlob).optional(),
        sha256: list(sha256).optional(),
      })
      .optional(),
    when: whenSchema.optional(),
    approval: ruleApprovalSchema.optional(),
    breakGlass: z.boolean().optional(),
    ticket: ticketSchema.optional(),
    attended: z.boolean().optional(),
    offline: z.boolean().optional(),
  })
  .superRefine((rule, ctx) => {
    // policy-files.md "Added keys": which effects each key is for.
    if (rule.offline && rule.effect !== 'allow') {
      ctx.addIssue({ code: 'custom', message: "'offline: true' is for allow rules only", path: ['offline'] });
    }
    if (rule.breakGlass && rule.effect !== 'ask') {
      ctx.addIssue({ code: 'custom', message: "'breakGlass: true' is for ask rules only", path: ['breakGlass'] });
    }
  });

export const deviceGroupSchema = z.strictObject({
  name: groupRef,
  match: z
    .strictObject(
      Object.fromEntries(DEVICE_ATTRIBUTES.map((a) => [a, list(nameGlob).optional()])) as Record<
        (typeof DEVICE_ATTRIBUTES)[number],
        z.ZodOptional<ReturnType<typeof list<typeof nameGlob>>>
      >,
    )
    .optional(),
  devices: list(z.string().min(1).max(200)).optional(),
  reports: z
    .strictObject({
      recipients: list(z.email()),
      digest: list(z.enum(['daily', 'weekly'])),
    })
    .optional(),
});

const accessDevice = checked(z.string(), (v) =>
  v === '*' ? "'*' is not needed here: leave devices out for all devices" : nameProblem('device group name')(v),
);

export const accessSchema = z.strictObject({
  group: directoryGroup,
  role: z.enum(ROLES),
  devices: list(accessDevice).optional(),
});

export const defaultsSchema = z.strictObject({
  effect: z.enum(['deny', 'ask']).optional(),
  approval: defaultsApprovalSchema.optional(),
});

/** One policy file: any file may hold any of the four keys. */
export const policyFileSchema = z.strictObject({
  defaults: defaultsSchema.optional(),
  deviceGroups: z.array(deviceGroupSchema).optional(),
  access: z.array(accessSchema).optional(),
  rules: z.array(ruleSchema).optional(),
});

export type PolicyFile = z.infer<typeof policyFileSchema>;
export type RuleInput = z.infer<typeof ruleSchema>;
export type RuleApprovalInput = z.infer<typeof ruleApprovalSchema>;
export type DefaultsApprovalInput = z.infer<typeof defaultsApprovalSchema>;

/** The keys that the schema allows at a path of a file (for "did you mean"). */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const unwrap = (t: z.ZodType): z.ZodType => (t instanceof z.ZodOptional ? unwrap(t.unwrap() as z.ZodType) : t);
  let schema: z.ZodType = policyFileSchema;
  for (const segment of path) {
    schema = unwrap(schema);
    if (typeof segment === 'number' && schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (typeof segment === 'string' && schema instanceof z.ZodObject) {
      const next = (schema.shape as Record<string, z.ZodType | undefined>)[segment];
      if (next === undefined) return [];
      schema = next;
    } else return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}
