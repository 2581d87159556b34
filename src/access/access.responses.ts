import { z } from 'zod';

/** What one "End now" call ended (OpenAPI; checked against real answers by test/http/openapi). */
export const accessEndedSchema = z.object({
  endedAt: z.iso.datetime(),
  reason: z.string().describe('As the agent reads it: "Ended by <user>: <reason>"'),
  ended: z.array(
    z.object({
      requestId: z.uuid(),
      deviceId: z.string(),
      session: z.boolean().describe('A remote session that the agent must stop (listed in its heartbeat `end`)'),
      grantId: z.uuid().nullable().describe('The "approve for N minutes" grant ended with it: repeats are denied'),
    }),
  ),
});
