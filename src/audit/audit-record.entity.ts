import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One link of the hash chain. INVARIANT: rows are only ever inserted (database
 * triggers refuse UPDATE, DELETE and TRUNCATE); `seq` has no gaps and each `prevHash`
 * is the `hash` of the row before.
 */
@Entity({ name: 'audit_records' })
@Index('idx_audit_records_event_type', ['eventType', 'seq'])
@Index('idx_audit_records_request_id', ['requestId'])
export class AuditRecordEntity {
  @PrimaryColumn({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  @Column({ name: 'actor_type', type: 'text' })
  actorType!: string;

  @Column({ name: 'actor_id', type: 'text', nullable: true })
  actorId!: string | null;

  @Column({ name: 'device_id', type: 'text', nullable: true })
  deviceId!: string | null;

  @Column({ type: 'text', nullable: true })
  action!: string | null;

  @Column({ name: 'remote_user', type: 'text', nullable: true })
  remoteUser!: string | null;

  @Column({ type: 'text', nullable: true })
  outcome!: string | null;

  @Column({ name: 'rule_ids', type: 'text', array: true, default: () => "'{}'" })
  ruleIds!: string[];

  @Column({ name: 'policy_version', type: 'text', nullable: true })
  policyVersion!: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  approvers!: string[];

  @Column({ name: 'source_address', type: 'text', nullable: true })
  sourceAddress!: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: Record<string, unknown>;

  @Column({ name: 'prev_hash', type: 'text' })
  prevHash!: string;

  @Column({ type: 'text' })
  hash!: string;
}
