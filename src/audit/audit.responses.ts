import { z } from 'zod';

/** The bodies the audit API answers (audit-chain.ts, audit-verifier.ts; checked by test/http/openapi). */
const chainHeadSchema = z.object({ seq: z.number().int(), hash: z.string() });

export const auditRecordSchema = z.object({
  seq: z.number().int(),
  recordedAt: z.iso.datetime(),
  eventType: z.string(),
  actorType: z.enum(['user', 'device', 'system', 'anonymous']),
  actorId: z.string().nullable(),
  deviceId: z.string().nullable(),
  action: z.string().nullable(),
  remoteUser: z.string().nullable(),
  outcome: z.string().nullable(),
  ruleIds: z.array(z.string()),
  policyVersion: z.string().nullable(),
  approvers: z.array(z.string()),
  sourceAddress: z.string().nullable(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

export const auditPageSchema = z.object({
  items: z.array(auditRecordSchema),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
});

const storyStepSchema = z.enum([
  'asked',
  'vote',
  'grant',
  'repeat',
  'repeat-completed',
  'cancelled',
  'expired',
  'grant-ended',
  'completed',
  'other',
]);

export const requestStorySchema = z.object({
  requestId: z.string(),
  status: z.string().nullable().describe("The request's status now; null if only its audit records remain"),
  events: z.array(auditRecordSchema.extend({ step: storyStepSchema })),
  completion: z
    .object({ outcome: z.string().nullable(), at: z.iso.datetime(), durationSeconds: z.number().nullable() })
    .nullable(),
});

export const auditVerifySchema = z.union([
  z.object({ ok: z.literal(true), records: z.number().int(), head: chainHeadSchema.nullable() }),
  z.object({ ok: z.literal(false), records: z.number().int(), firstBadSeq: z.number().int(), reason: z.string() }),
]);

export const auditCheckpointSchema = z.object({
  head: chainHeadSchema.nullable().describe('The newest record; null while the trail is empty'),
  at: z.iso.datetime(),
});
