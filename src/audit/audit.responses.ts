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
  'break-glass',
  'break-glass-review',
  'grant',
  'repeat',
  'repeat-completed',
  'cancelled',
  'expired',
  'grant-ended',
  'access-ended',
  'end-confirmed',
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

const verifyRunSchema = z.object({
  mode: z.enum(['full', 'incremental']),
  fromSeq: z.number().int().describe('The run started after this record (0: from the first)'),
  checked: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
});

const checkedCheckpointSchema = chainHeadSchema.extend({
  source: z.enum(['stored', 'request', 'file']),
  at: z.string().optional(),
});

const verifyExtras = {
  checkpoints: z.array(checkedCheckpointSchema),
  run: verifyRunSchema,
  sealLag: z
    .object({
      unsealed: z.number().int().describe('Records committed (their decisions answered) but not yet in the chain'),
      oldestSeconds: z.number().describe('Age of the oldest of them (0 when none)'),
    })
    .describe('What waited for the sealer when this verification began (it sealed them before walking the chain)'),
  prunedThrough: z
    .number()
    .int()
    .optional()
    .describe('Records up to this one were pruned (audit:prune); a full walk started after it'),
};

export const auditVerifySchema = z.union([
  z.object({ ok: z.literal(true), records: z.number().int(), head: chainHeadSchema.nullable(), ...verifyExtras }),
  z.object({
    ok: z.literal(false),
    records: z.number().int(),
    firstBadSeq: z.number().int(),
    reason: z.string(),
    ...verifyExtras,
  }),
]);

export const auditVerifyStatusSchema = z.object({
  running: verifyRunSchema.nullable(),
  lastRun: verifyRunSchema.nullable(),
  lastVerified: chainHeadSchema.extend({ at: z.string() }).nullable(),
});

export const signedCheckpointResponseSchema = z.object({
  seq: z.number().int(),
  hash: z.string(),
  at: z.string(),
  keyId: z.string(),
  signature: z.string().describe('base64 Ed25519 over the RFC 8785 JSON of the other fields'),
});

const publicKeyFields = {
  keyId: z.string(),
  algorithm: z.literal('Ed25519'),
  publicKey: z.string().describe('PEM'),
  createdAt: z.string(),
};

export const publicKeySchema = z.object({
  ...publicKeyFields,
  previousKeys: z.array(z.object({ ...publicKeyFields, retiredAt: z.string().nullable() })),
});

export const auditCheckpointSchema = z.object({
  head: chainHeadSchema.nullable().describe('The newest record; null while the trail is empty'),
  at: z.iso.datetime(),
});
