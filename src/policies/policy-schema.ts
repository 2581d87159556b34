/**
 * The shape of one policy file (../shared/docs/policy-files.md) as zod schemas. The checks
 * of single values are in policy-value-checks.ts, the words they use in policy-vocabulary.ts
 * (both re-exported here for existing imports); cross-file checks (duplicates, references
 * to device groups, approvers of `ask` rules) are in loader/cross-references.ts.
 */
import { z } from 'zod';
import { ROLES } from '../auth/roles.js';
import { globProblem } from './globs.js';
import {
  actionProblem,
  deviceRefProblem,
  directoryGroupProblem,
  instantProblem,
  localDateTimeProblem,
  nameProblem,
  timeProblem,
  timeZoneProblem,
} from './policy-value-checks.js';
import { DEVICE_ATTRIBUTES, WEEKDAYS } from './policy-vocabulary.js';

export {
  ACTION_CATALOGUE,
  APPROVAL_DEFAULTS,
  CUSTOM_ACTION_PATTERN,
  DEVICE_ATTRIBUTES,
  NAME_PATTERN,
  WEEKDAYS,
} from './policy-vocabulary.js';
export {
  didYouMean,
  instantProblem,
  localDateTimeProblem,
  timeProblem,
  timeZoneProblem,
} from './policy-value-checks.js';

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
  // The ticket must name the device as its configuration item (cmdb_ci's name = the device id).
  ciMatch: z.boolean().optional(),
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
    if (rule.offline && rule.ticket?.check) {
      // An agent offline cannot ask the ITSM: the rule would allow without the check.
      ctx.addIssue({ code: 'custom', message: "'offline: true' cannot go with a ticket 'check'", path: ['offline'] });
    }
    if ((rule.ticket?.onUnavailable || rule.ticket?.ciMatch) && !rule.ticket.check) {
      ctx.addIssue({ code: 'custom', message: "needs 'check: servicenow'", path: ['ticket'] });
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
