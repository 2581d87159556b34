import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Every policy set that was ever in force, by content hash: the audit trail names these versions. */
@Entity({ name: 'policy_versions' })
export class PolicyVersionEntity {
  @PrimaryColumn({ type: 'text' })
  version!: string;

  @CreateDateColumn({ name: 'first_loaded_at', type: 'timestamptz' })
  firstLoadedAt!: Date;

  @Column({ type: 'jsonb' })
  content!: unknown;
}
