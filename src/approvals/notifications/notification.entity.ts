import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type NotificationChannel = 'email' | 'webhook';
export type NotificationEvent =
  | 'request.created'
  | 'request.reminder'
  | 'request.decided'
  // A member of an emergency group allowed the request alone (break-glass/).
  | 'request.break-glass'
  // Sent by src/reports through this outbox (NotificationSender.deliverEvent).
  | 'report.intervention'
  | 'report.digest';
export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'skipped';

/**
 * The notification outbox: written in the transaction of the change it announces, sent
 * afterwards by NotificationSender with retries. A failed send never touches the
 * request. INVARIANT: one notification per (channel, event, request), so replicas that
 * both notice a change enqueue it once.
 */
@Entity({ name: 'notifications' })
@Index('uq_notifications_once', ['channel', 'event', 'requestId'], { unique: true })
@Index('idx_notifications_due', ['nextAttemptAt'], { where: "status = 'pending'" })
export class NotificationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  channel!: NotificationChannel;

  @Column({ type: 'text' })
  event!: NotificationEvent;

  @Column({ name: 'request_id', type: 'uuid' })
  requestId!: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  recipients!: string[];

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ type: 'text', default: 'pending' })
  status!: NotificationStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;
}
