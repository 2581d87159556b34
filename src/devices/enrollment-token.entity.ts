import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A token an administrator hands to a field engineer to enroll devices; stored as a hash. */
@Entity({ name: 'enrollment_tokens' })
export class EnrollmentTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('idx_enrollment_tokens_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  /** Devices enrolled with this token join these groups; empty = groups come from the policy files only. */
  @Column({ name: 'device_groups', type: 'text', array: true, default: () => "'{}'" })
  deviceGroups!: string[];

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'max_uses', type: 'integer' })
  maxUses!: number;

  @Column({ type: 'integer', default: 0 })
  uses!: number;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
