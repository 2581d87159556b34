import { z } from 'zod';

/** GET /api/v1/agent/policy (offline-policy.service.ts). */
export const signedOfflinePolicySchema = z.object({
  deviceId: z.string(),
  version: z.string().describe('The policy set version: offline decisions name it as policyVersion'),
  issuedAt: z.iso.datetime(),
  validUntil: z.iso.datetime().describe('After this the agent must not use the policy'),
  rules: z
    .array(z.array(z.unknown()))
    .describe('Packed CASL rules (@casl/ability/extra packRules), subject type Request, every one an allow'),
  keyId: z.string().describe('The signing key (GET /api/v1/audit/public-key)'),
  signature: z.string().describe('Base64 Ed25519 over the RFC 8785 canonical JSON of every other field'),
});

export const offlineDecisionsAcceptedSchema = z.object({
  accepted: z.number().int().describe('Decisions recorded by this call: request ids already recorded are not counted'),
});
