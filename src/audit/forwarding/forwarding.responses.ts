import { z } from 'zod';

/** The body of GET /api/v1/audit/forwarding (forwarding.service.ts; checked by test/http/openapi). */
export const receiverStatusSchema = z.object({
  url: z.string().describe('The receiver as configured, without credentials'),
  lastForwardedSeq: z.number().int().describe('The last record the receiver is known to have (0: none yet)'),
  lastCheckpointSeq: z.number().int().describe('The last signed checkpoint sent to it'),
  lag: z.number().int().describe('Records in the trail not yet forwarded'),
  lagSeconds: z.number().int().describe('Age of the oldest record not yet forwarded (0: none)'),
  lastForwardedAt: z.iso.datetime().nullable(),
  lastError: z.string().nullable().describe('The last failure (kept after a recovery)'),
  lastErrorAt: z.iso.datetime().nullable(),
  failingSince: z.iso.datetime().nullable().describe('Set while every attempt fails'),
});

export const forwardingStatusSchema = z.object({ receivers: z.array(receiverStatusSchema) });
