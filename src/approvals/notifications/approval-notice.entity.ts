import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * What the approvers of one request have been told, and when (the approval jobs' marks): a
 * row from the moment they were told of the pending request. Kept apart from
 * decision_requests so that approvals own their bookkeeping and the decisions' hot path
 * never writes it.
 */
@Entity({ name: 'approval_notices' })
// Requests whose approvers were told and must still hear the outcome: few rows at any time.
@Index('idx_approval_notices_outcome_due', ['requestId'], { where: 'outcome_notified_at IS NULL' })
export class ApprovalNoticeEntity {
  @PrimaryColumn({ name: 'request_id', type: 'uuid', primaryKeyConstraintName: 'PK_approval_notices' })
  requestId!: string;

  /** When the approvers were told of the pending request. */
  @Column({ name: 'notified_at', type: 'timestamptz' })
  notifiedAt!: Date;

  /** When they were reminded that it is about to expire (null: not yet). */
  @Column({ name: 'reminded_at', type: 'timestamptz', nullable: true })
  remindedAt!: Date | null;

  /** When they were told the outcome: approved, rejected, expired or cancelled (null: not yet). */
  @Column({ name: 'outcome_notified_at', type: 'timestamptz', nullable: true })
  outcomeNotifiedAt!: Date | null;
}
