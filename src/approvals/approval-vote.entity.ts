import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type Vote = 'approve' | 'reject';

/**
 * One approver's answer to one pending request. INVARIANT: the unique index makes an
 * approver count once, whatever the races (a double click inserts nothing twice).
 */
@Entity({ name: 'approval_votes' })
@Index('uq_approval_votes_request_user', ['requestId', 'userId'], { unique: true })
export class ApprovalVoteEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'request_id', type: 'uuid' })
  requestId!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The approver's username when they voted (kept if the account is renamed later). */
  @Column({ type: 'text' })
  username!: string;

  @Column({ type: 'text' })
  vote!: Vote;

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  @Column({ name: 'grant_minutes', type: 'integer', nullable: true })
  grantMinutes!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
