import { z } from 'zod';
import { plainText } from '../common/zod-validation.js';
import { decideSchema } from '../decisions/decisions.dto.js';
import { heartbeatSchema } from '../devices/devices.dto.js';

/** Offline decisions one call may upload; an agent with more sends them in several calls. */
export const MAX_OFFLINE_DECISIONS = 500;

/** One decision an agent took while Gatehouse could not be reached (agent-api.md 1.1). */
export const offlineDecisionSchema = z.strictObject({
  requestId: decideSchema.shape.requestId,
  action: decideSchema.shape.action,
  remoteUser: decideSchema.shape.remoteUser,
  target: decideSchema.shape.target,
  context: decideSchema.shape.context,
  decidedAt: z.iso.datetime({ offset: true }),
  /** The `version` of the offline policy it was decided under. */
  policyVersion: plainText(128),
  /** What the agent did: acted (allow) or refused (deny). */
  decision: z.enum(['allow', 'deny']),
  /** The device state the agent evaluated the rules with (as in a heartbeat); absent = unknown. */
  deviceState: heartbeatSchema.shape.state,
});
export type OfflineDecision = z.infer<typeof offlineDecisionSchema>;

export const offlineDecisionsSchema = z.strictObject({
  decisions: z
    .array(offlineDecisionSchema)
    .max(MAX_OFFLINE_DECISIONS, { error: `at most ${MAX_OFFLINE_DECISIONS} decisions a call` }),
});
