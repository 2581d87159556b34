import { z } from 'zod';

/**
 * The bodies the policies API answers (policy.types.ts; checked by test/http/openapi).
 * The items of a policy set are documented by their key fields and left open: their full
 * format is policy-files.md, and the engine may add to it.
 */
const approvalSettingsSchema = z.object({
  approvers: z.array(z.string()),
  required: z.number().int(),
  timeoutMinutes: z.number().int(),
  maxGrantMinutes: z.number().int().optional(),
});
const effect = z.enum(['allow', 'deny', 'ask']);
const sourced = {
  source: z
    .union([
      z.object({ kind: z.literal('file'), file: z.string(), line: z.number().int() }),
      z.object({ kind: z.literal('console'), id: z.string() }),
    ])
    .describe('Where it was written: a policy file and line, or the console'),
};

export const policySetViewSchema = z.object({
  inForce: z.boolean(),
  version: z.string().nullable().describe('Content hash of the set in force'),
  defaults: z.object({ effect: z.enum(['deny', 'ask']), approval: approvalSettingsSchema.optional() }).nullable(),
  deviceGroups: z.array(z.looseObject({ name: z.string(), ...sourced })),
  access: z.array(
    z.looseObject({ group: z.string(), role: z.enum(['admin', 'approver', 'auditor', 'viewer']), ...sourced }),
  ),
  rules: z.array(
    z.looseObject({ id: z.string(), effect, actions: z.array(z.string()), devices: z.array(z.string()), ...sourced }),
  ),
  problems: z.array(z.object({ file: z.string(), line: z.number().int(), message: z.string() })),
});

export const consoleRuleSchema = z.object({
  id: z.string(),
  rule: z.record(z.string(), z.unknown()).describe('The rule as policy-files.md describes it'),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  updatedBy: z.string(),
  updatedAt: z.iso.datetime(),
});

export const reloadResultSchema = z.object({
  version: z.string().describe('Content hash of the set now in force'),
  changed: z.boolean(),
});

export const simulationSchema = z.object({
  decision: z.enum(['allow', 'deny', 'pending']),
  decidedBy: z.enum(['allow', 'deny', 'ask', 'default', 'grant']),
  grant: z
    .object({ id: z.string(), requestId: z.string(), expiresAt: z.iso.datetime() })
    .nullable()
    .describe('The live approval grant that allows this repeat (as decisions apply it), or null'),
  policies: z.array(z.string()),
  approval: approvalSettingsSchema.nullable(),
  policyVersion: z.string(),
  deviceGroups: z.array(z.string()),
  matching: z.array(z.object({ ruleId: z.string(), effect })),
  notMatching: z.array(z.object({ ruleId: z.string(), effect, reason: z.string() })),
  tickets: z
    .object({
      ticket: z.string().nullable(),
      source: z
        .enum(['stated', 'itsm', 'none'])
        .describe(
          "Where the verdicts come from: the request's `itsm` answer, the configured ITSM asked live, " +
            'or none asked (no ticket, or not a ServiceNow number: refused)',
        ),
      verdicts: z.array(
        z.object({
          ruleId: z.string(),
          verdict: z.enum(['confirmed', 'refused', 'unavailable']),
          reason: z.string().nullable(),
        }),
      ),
    })
    .nullable()
    .describe('The ticket check of the rules that would match but for it (`ticket.check`); null when none'),
  errors: z.array(z.object({ ruleId: z.string(), message: z.string() })),
});
