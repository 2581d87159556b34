import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A signed statement "the chain's record `seq` had hash `hash` at `at`", kept outside
 * audit_records so that removing the chain's tail or rewriting it is still found, and so that
 * audit_append continues after the last checkpoint (sequence numbers are never reused).
 * INVARIANT: rows are only inserted (triggers refuse UPDATE, DELETE and TRUNCATE).
 */
@Entity({ name: 'audit_checkpoints' })
export class AuditCheckpointEntity {
  @PrimaryColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'text' })
  hash!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  /** Base64 Ed25519 over the RFC 8785 JSON of {seq, hash, at, keyId}. */
  @Column({ type: 'text' })
  signature!: string;
}
