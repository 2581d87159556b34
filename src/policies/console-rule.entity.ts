import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A rule written in the console: stored here, validated and merged with the file rules. */
@Entity({ name: 'console_rules' })
export class ConsoleRuleEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  /** The rule as policy-files.md describes it (validated by the policy loader). */
  @Column({ type: 'jsonb' })
  rule!: Record<string, unknown>;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_by', type: 'text' })
  updatedBy!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
