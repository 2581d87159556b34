import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One link of the hash chain. INVARIANT: rows are only ever inserted (database
 * triggers refuse UPDATE, DELETE and TRUNCATE); `seq` has no gaps and each `prevHash`
 * is the `hash` of the row before.
 */
@Entity({ name: 'audit_records' })
@Index('idx_audit_records_event_type', ['eventType', 'seq'])
@Index('idx_audit_records_request_id', ['requestId'])
// The search's filters (migration AuditSearchIndexes): each with seq, so a filtered page
// newest or oldest first is read straight from the index.
@Index('idx_audit_records_device_id', ['deviceId', 'seq'], { where: 'device_id IS NOT NULL' })
@Index('idx_audit_records_remote_user', ['remoteUser', 'seq'], { where: 'remote_user IS NOT NULL' })
@Index('idx_audit_records_actor_id', ['actorId', 'seq'], { where: 'actor_id IS NOT NULL' })
@Index('idx_audit_records_outcome', ['outcome', 'seq'], { where: 'outcome IS NOT NULL' })
@Index('idx_audit_records_recorded_at', ['recordedAt'])
@Index('idx_audit_records_rule_ids', ['ruleIds'], { type: 'gin' })
// Expression indexes (TypeORM cannot describe them: the migration creates them, sync leaves them be).
@Index('idx_audit_records_enterprise', { synchronize: false })
@Index('idx_audit_records_ticket', { synchronize: false })
@Index('idx_audit_records_granted_by', { synchronize: false })
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
