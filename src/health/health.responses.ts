import { z } from 'zod';

/** The bodies the health checks answer (health.controller.ts; checked by test/http/openapi). */
export const liveSchema = z.object({ status: z.literal('ok') });

export const readySchema = z.object({
  status: z.literal('ready'),
  checks: z.object({ database: z.literal('ok'), policies: z.literal('ok'), policyVersion: z.string() }),
});
