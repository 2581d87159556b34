import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How far each SIEM receiver got: the last record and checkpoint it was sent (and that the
 * forwarder saw arrive), and how it is failing. One row per receiver (AUDIT_FORWARD_URLS entry
 * without secrets); a receiver added later starts at the beginning of the trail.
 */
@Entity({ name: 'audit_forward_cursors' })
export class AuditForwardCursorEntity {
  @PrimaryColumn({ type: 'text' })
  receiver!: string;

  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq!: string;

  @Column({ name: 'last_checkpoint_seq', type: 'bigint', default: 0 })
  lastCheckpointSeq!: string;

  @Column({ name: 'last_forwarded_at', type: 'timestamptz', nullable: true })
  lastForwardedAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'last_error_at', type: 'timestamptz', nullable: true })
  lastErrorAt!: Date | null;

  /** Since when every attempt failed (null while it works). */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince!: Date | null;

  /** Whether `audit.forwarding.failing` was recorded for this failure (so it is recorded once). */
  @Column({ type: 'boolean', default: false })
  alerted!: boolean;
}
