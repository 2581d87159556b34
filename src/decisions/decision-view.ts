import type { DecisionRequestEntity, RequestStatus } from './decision-request.entity.js';

export const PENDING_POLL_AFTER_SECONDS = 5;
export const EXPIRED_REASON = 'No approver answered in time: expired';

/** The agent's answer (agent-api.md): same body for POST, GET and the long poll. */
export interface AgentAnswer {
  requestId: string;
  decision: 'allow' | 'deny' | 'pending';
  status: RequestStatus;
  reason: string;
  policies: string[];
  validUntil?: string;
  expiresAt?: string;
  pollAfterSeconds?: number;
  /** On allow (agent-api.md 1.1): what the agent must do before acting; absent when nothing. */
  obligations?: string[];
  /** The hospital ended this access ("End now", a time window closing): stop it, then `complete` as aborted. */
  ended?: true;
  endReason?: string;
}

/**
 * A pending request whose time is up reads as expired at that instant, whether or not
 * the expiry job has run yet: the answer never depends on a job being on time.
 */
export function effectiveStatus(row: DecisionRequestEntity, now: number): RequestStatus {
  if (row.status === 'pending' && row.expiresAt !== null && row.expiresAt.getTime() <= now) return 'expired';
  return row.status;
}

/** The reason as it reads now: a pending request past its time-out reads as expired. */
export function effectiveReason(row: DecisionRequestEntity, now: number): string {
  return effectiveStatus(row, now) === 'expired' ? EXPIRED_REASON : row.reason;
}

export function toAnswer(row: DecisionRequestEntity, now: number): AgentAnswer {
  const status = effectiveStatus(row, now);
  const decision = status === 'allowed' || status === 'approved' ? 'allow' : status === 'pending' ? 'pending' : 'deny';
  const answer: AgentAnswer = {
    requestId: row.requestId,
    decision,
    status,
    reason: effectiveReason(row, now),
    policies: row.ruleIds,
  };
  if (decision === 'allow' && row.validUntil) answer.validUntil = row.validUntil.toISOString();
  if (decision === 'allow' && row.obligations.length > 0) answer.obligations = row.obligations;
  if (decision === 'pending') {
    if (row.expiresAt) answer.expiresAt = row.expiresAt.toISOString();
    answer.pollAfterSeconds = PENDING_POLL_AFTER_SECONDS;
  }
  return answer;
}
