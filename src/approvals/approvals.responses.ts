import { z } from 'zod';
import { requestStatusSchema } from '../decisions/decisions.responses.js';

/** The bodies the approvals API answers (approval-queue.ts, grants.service.ts; checked by test/http/openapi). */
const iso = z.iso.datetime();

export const approvalSummarySchema = z.object({
  requestId: z.uuid(),
  status: requestStatusSchema,
  createdAt: iso,
  expiresAt: iso.nullable(),
  decidedAt: iso.nullable(),
  reason: z.string(),
  device: z.object({
    id: z.string(),
    groups: z.array(z.string()),
    model: z.string().nullable(),
    site: z.string().nullable(),
    state: z.record(z.string(), z.unknown()).nullable(),
    stateReportedAt: iso.nullable(),
    lastSeenAt: iso.nullable(),
  }),
  action: z.string(),
  remoteUser: z.object({ id: z.string(), enterprise: z.string().optional(), groups: z.array(z.string()).optional() }),
  target: z.record(z.string(), z.string()).nullable(),
  ticket: z.string().nullable(),
  vendorReason: z.string().nullable(),
  rules: z.array(z.string()),
  policyVersion: z.string().nullable(),
  approval: z.object({
    approvers: z.array(z.string()).describe('Approver groups'),
    required: z.number().int(),
    given: z.number().int(),
    stillNeeded: z.number().int(),
    timeoutMinutes: z.number().int().nullable(),
    maxGrantMinutes: z.number().int().nullable(),
    breakGlass: z.boolean().describe('Every rule that asked allows break-glass (`breakGlass: true`)'),
  }),
  breakGlass: z
    .object({
      by: z.string(),
      reason: z.string(),
      grantMinutes: z.number().int().nullable(),
      at: iso,
      needsReview: z.boolean(),
      review: z
        .object({ verdict: z.enum(['accept', 'incident']), comment: z.string(), by: z.string(), at: iso })
        .nullable(),
    })
    .nullable()
    .describe('Set when a member of an emergency group allowed it alone'),
  youMayDecide: z.boolean(),
  whyNot: z.string().optional().describe('Why you may not decide it now'),
  youMayBreakGlass: z
    .boolean()
    .describe('You may break the glass on it now: pending, you are in BREAK_GLASS_GROUPS, in scope, rules allow it'),
  youMayReview: z
    .boolean()
    .describe('You may review its break-glass now: not reviewed, you approve it and did not break the glass'),
});

export const approvalPageSchema = z.object({
  items: z.array(approvalSummarySchema),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
});

export const approvalDetailSchema = approvalSummarySchema.extend({
  eligibleApprovers: z.array(z.string()).describe('User names who may decide it, as groups and scopes stand now'),
  votes: z.array(
    z.object({
      username: z.string(),
      vote: z.enum(['approve', 'reject']),
      comment: z.string().nullable(),
      grantMinutes: z.number().int().nullable(),
      at: iso,
    }),
  ),
  grant: z.object({ id: z.uuid(), expiresAt: iso, endedAt: iso.nullable() }).nullable(),
  history: z.array(
    z.object({
      seq: z.number().int(),
      at: iso,
      event: z.string(),
      actor: z.string(),
      outcome: z.string(),
      details: z.unknown(),
    }),
  ),
});

export const grantViewSchema = z.object({
  id: z.uuid(),
  requestId: z.uuid(),
  deviceId: z.string(),
  deviceGroups: z.array(z.string()),
  action: z.string(),
  remoteUser: z.string(),
  target: z.record(z.string(), z.string()).nullable(),
  approvedBy: z.array(z.string()),
  createdAt: iso,
  expiresAt: iso,
  endedAt: iso.nullable(),
  endedBy: z.string().nullable(),
  live: z.boolean(),
});
