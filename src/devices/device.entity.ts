import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** An enrolled device: its agent's claims at enrollment, its credential (hashed) and last reported state. */
@Entity({ name: 'devices' })
export class DeviceEntity {
  /** The id the agent enrolled with, e.g. "ct-0042". */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  model!: string;

  @Column({ name: 'serial_number', type: 'text', nullable: true })
  serialNumber!: string | null;

  @Column({ type: 'text', nullable: true })
  site!: string | null;

  @Column({ name: 'agent_version', type: 'text', nullable: true })
  agentVersion!: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  actions!: string[];

  /** SHA-256 of the device credential; the credential itself is shown once, at enrollment. */
  @Index('idx_devices_credential_hash', { unique: true })
  @Column({ name: 'credential_hash', type: 'text' })
  credentialHash!: string;

  /** Groups given by the enrollment token's scope (besides those the policy files' match rules give). */
  @Column({ name: 'assigned_groups', type: 'text', array: true, default: () => "'{}'" })
  assignedGroups!: string[];

  /** The groups of the scoped token it enrolled with: it is in no group outside them. NULL: no bound. */
  @Column({ name: 'group_scope', type: 'text', array: true, nullable: true })
  groupScope!: string[] | null;

  @Column({ name: 'enrollment_token_id', type: 'uuid', nullable: true })
  enrollmentTokenId!: string | null;

  @CreateDateColumn({ name: 'enrolled_at', type: 'timestamptz' })
  enrolledAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  state!: Record<string, unknown> | null;

  @Column({ name: 'state_reported_at', type: 'timestamptz', nullable: true })
  stateReportedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
