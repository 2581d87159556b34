import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type ReviewVerdict = 'accept' | 'incident';

/**
 * One break-glass allow (issue 14): a member of an emergency group allowed a waiting
 * request alone. It "needs review" until another approver accepts it or raises an
 * incident (reviewedAt set); both halves stay for the audit and reports.
 */
@Entity({ name: 'break_glass_uses' })
// The queue's "needs review" filter.
@Index('idx_break_glass_uses_unreviewed', ['createdAt'], { where: 'reviewed_at IS NULL' })
export class BreakGlassUseEntity {
  @PrimaryColumn({ name: 'request_id', type: 'uuid', primaryKeyConstraintName: 'PK_break_glass_uses' })
  requestId!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The user name when they broke the glass (kept if the account is renamed later). */
  @Column({ type: 'text' })
  username!: string;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'grant_minutes', type: 'integer', nullable: true })
  grantMinutes!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'review_verdict', type: 'text', nullable: true })
  reviewVerdict!: ReviewVerdict | null;

  @Column({ name: 'review_comment', type: 'text', nullable: true })
  reviewComment!: string | null;

  @Column({ name: 'reviewed_by_id', type: 'uuid', nullable: true })
  reviewedById!: string | null;

  @Column({ name: 'reviewed_by', type: 'text', nullable: true })
  reviewedBy!: string | null;

  @Column({ name: 'reviewed_at', type: 'timestamptz', nullable: true })
  reviewedAt!: Date | null;
}
