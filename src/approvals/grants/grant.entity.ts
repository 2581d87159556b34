import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * "Approve for N minutes": repeats of the approved request (same device, action, remote
 * user and target) are allowed until `expiresAt`, unless the grant is ended early.
 */
@Entity({ name: 'grants' })
@Index('idx_grants_live', ['expiresAt'], { where: 'ended_at IS NULL' })
// A repeat looks its grant up by what makes it "the same request".
@Index('idx_grants_repeat', ['deviceId', 'action', 'remoteUserId', 'targetKey'], { where: 'ended_at IS NULL' })
export class GrantEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The approved request this grant repeats. */
  @Index('uq_grants_request', { unique: true })
  @Column({ name: 'request_id', type: 'uuid' })
  requestId!: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId!: string;

  @Column({ type: 'text' })
  action!: string;

  @Column({ name: 'remote_user_id', type: 'text' })
  remoteUserId!: string;

  /** The target as canonical JSON ('' for none): repeats must match it exactly. */
  @Column({ name: 'target_key', type: 'text' })
  targetKey!: string;

  /** Device groups of the request, for the approvers' scope. */
  @Column({ name: 'device_groups', type: 'text', array: true, default: () => "'{}'" })
  deviceGroups!: string[];

  @Column({ name: 'approved_by', type: 'text', array: true })
  approvedBy!: string[];

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @Column({ name: 'ended_by', type: 'text', nullable: true })
  endedBy!: string | null;
}
