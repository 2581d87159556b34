import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type RequestStatus = 'allowed' | 'denied' | 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

/**
 * One agent request and its answer. INVARIANT: status changes only by conditional
 * updates from 'pending' (see DecisionsService), so a request is decided once.
 */
@Entity({ name: 'decision_requests' })
@Index('idx_decision_requests_device', ['deviceId', 'createdAt'])
// Partial indexes: the hot path inserts allowed and denied requests, which neither holds.
// Pending requests by expiry (the queue, the expiry job):
@Index('idx_decision_requests_pending', ['expiresAt'], { where: "status = 'pending'" })
// DEPRECATED with the three columns below (the previous release's approval jobs use it).
@Index('idx_decision_requests_outcome_due', ['status'], {
  where: 'notified_at IS NOT NULL AND outcome_notified_at IS NULL',
})
// The approvals queue: requests that went to approvers, newest first (keyset pagination).
@Index('idx_decision_requests_queue', ['createdAt', 'requestId'], { where: 'approval IS NOT NULL' })
export class DecisionRequestEntity {
  /** The agent's requestId: the idempotency key. */
  @PrimaryColumn({ name: 'request_id', type: 'uuid' })
  requestId!: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId!: string;

  /** SHA-256 of the request body as the agent sent it (same id with another body is 409). */
  @Column({ name: 'body_hash', type: 'text' })
  bodyHash!: string;

  /** The device's groups when it asked: the approvers' scope and the queue's filter. */
  @Column({ name: 'device_groups', type: 'text', array: true, default: () => "'{}'" })
  deviceGroups!: string[];

  @Column({ type: 'text' })
  action!: string;

  @Column({ name: 'remote_user', type: 'jsonb' })
  remoteUser!: { id: string; enterprise?: string; groups?: string[] };

  @Column({ type: 'jsonb', nullable: true })
  target!: Record<string, string> | null;

  @Column({ type: 'jsonb', nullable: true })
  context!: Record<string, string> | null;

  @Column({ type: 'text' })
  status!: RequestStatus;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'rule_ids', type: 'text', array: true, default: () => "'{}'" })
  ruleIds!: string[];

  @Column({ name: 'policy_version', type: 'text', nullable: true })
  policyVersion!: string | null;

  /** For pending requests: the merged approval settings that apply. */
  @Column({ type: 'jsonb', nullable: true })
  approval!: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'valid_until', type: 'timestamptz', nullable: true })
  validUntil!: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  outcome!: Record<string, unknown> | null;

  // DEPRECATED, never read or written by this release: the approval jobs' marks moved to
  // approval_notices (approvals). Kept one release so that replicas of the previous one keep
  // working during a rolling upgrade (docs/upgrades.md); the next release drops them.
  @Column({ name: 'notified_at', type: 'timestamptz', nullable: true, select: false })
  deprecatedNotifiedAt?: Date | null;

  @Column({ name: 'reminded_at', type: 'timestamptz', nullable: true, select: false })
  deprecatedRemindedAt?: Date | null;

  @Column({ name: 'outcome_notified_at', type: 'timestamptz', nullable: true, select: false })
  deprecatedOutcomeNotifiedAt?: Date | null;

  /**
   * What the agent must do before acting on the allow (agent-api.md 1.1), e.g. 'local-consent'
   * from an attended rule; kept while pending so that the allow after an approval carries it.
   */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  obligations!: string[];

  /** For a repeat allowed by an approval's grant: that grant. */
  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId!: string | null;
}
