import { z } from 'zod';

/** Every status a request can have (decision-request.entity.ts). */
export const requestStatusSchema = z.enum([
  'allowed',
  'denied',
  'pending',
  'approved',
  'rejected',
  'expired',
  'cancelled',
]);

/** The agent's answer (decision-view.ts): the same body for ask, poll, cancel and complete. */
export const agentAnswerSchema = z.object({
  requestId: z.uuid(),
  decision: z.enum(['allow', 'deny', 'pending']).describe('Act only on allow'),
  status: requestStatusSchema,
  reason: z.string(),
  policies: z.array(z.string()).describe('Ids of the rules that decided'),
  validUntil: z.iso.datetime().optional().describe('On allow: until when the allow may be acted on'),
  expiresAt: z.iso.datetime().optional().describe('While pending: when the request expires unanswered'),
  pollAfterSeconds: z.number().int().optional().describe('While pending: when to ask again'),
  obligations: z
    .array(z.string())
    .optional()
    .describe('On allow (1.1): what the agent must do before acting (local-consent); unknown ones mean do not act'),
  ended: z
    .literal(true)
    .optional()
    .describe('1.1: the hospital ended this access: stop it at once, then call complete with outcome aborted'),
  endReason: z.string().optional().describe('With ended: why, and who ended it'),
});
