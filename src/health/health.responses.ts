import { z } from 'zod';

/** The bodies the health checks answer (health.controller.ts; checked by test/http/openapi). */
export const liveSchema = z.object({ status: z.literal('ok') });

export const readySchema = z.object({
  status: z.literal('ready'),
  version: z.string().describe("Gatehouse's version (its package.json)"),
  policyVersion: z.string().describe('The policy set in force (sha256 of its canonical form); as checks.policyVersion'),
  checks: z.object({
    database: z.literal('ok'),
    policies: z.literal('ok'),
    policyVersion: z.string(),
    forwarding: z
      .union([
        z.array(
          z.object({
            url: z.string(),
            lag: z.number().int(),
            lagSeconds: z.number().int(),
            lastError: z.string().nullable().describe('Set while the receiver is failing'),
          }),
        ),
        z.literal('unavailable'),
      ])
      .describe('SIEM receivers (AUDIT_FORWARD_URLS); informative: never fails readiness'),
  }),
});
