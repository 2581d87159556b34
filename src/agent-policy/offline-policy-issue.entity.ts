import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A policy version a device was given as its offline policy (GET /api/v1/agent/policy):
 * from when, and the latest validUntil it was given. An uploaded offline decision is
 * checked against this: an unknown version, or a time outside it, is flagged.
 */
@Entity({ name: 'offline_policy_issues' })
export class OfflinePolicyIssueEntity {
  @PrimaryColumn({ name: 'device_id', type: 'text' })
  deviceId!: string;

  @PrimaryColumn({ name: 'policy_version', type: 'text' })
  policyVersion!: string;

  @Column({ name: 'first_issued_at', type: 'timestamptz' })
  firstIssuedAt!: Date;

  @Column({ name: 'valid_until', type: 'timestamptz' })
  validUntil!: Date;
}
