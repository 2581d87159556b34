import { z } from 'zod';

/** The bodies the device and enrollment APIs answer (OpenAPI; checked against real answers by test/http/openapi). */
export const deviceViewSchema = z.object({
  id: z.string(),
  model: z.string(),
  serialNumber: z.string().nullable(),
  site: z.string().nullable(),
  agentVersion: z.string().nullable(),
  actions: z.array(z.string()).describe('Actions the agent declared it can ask about'),
  groups: z.array(z.string()).describe('Device groups (policy files and assignment)'),
  groupScope: z
    .array(z.string())
    .nullable()
    .describe("The enrollment token's groups that bound `groups` (null: no bound)"),
  enrolledAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime().nullable(),
  state: z.record(z.string(), z.unknown()).nullable().describe('The state last reported by heartbeat'),
  stateReportedAt: z.iso.datetime().nullable(),
  stateFresh: z.boolean(),
  revoked: z.boolean(),
});

export const enrolledSchema = z.object({
  deviceId: z.string(),
  credential: z.string().describe('The device credential: shown once, send it as the bearer token from now on'),
  pollIntervalSeconds: z.number().int(),
});

export const heartbeatAnswerSchema = z.object({
  pollIntervalSeconds: z.number().int(),
  end: z
    .array(z.object({ requestId: z.uuid(), reason: z.string() }))
    .describe('1.1: accesses the hospital withdrew: stop each at once, then complete it with outcome aborted'),
});

export const enrollmentTokenViewSchema = z.object({
  id: z.uuid(),
  deviceGroups: z.array(z.string()),
  expiresAt: z.iso.datetime(),
  maxUses: z.number().int(),
  uses: z.number().int(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
});

export const createdEnrollmentTokenSchema = z.object({
  id: z.uuid(),
  token: z.string().describe('The enrollment token: shown once'),
  expiresAt: z.iso.datetime(),
});
