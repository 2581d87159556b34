import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { actorEvent } from '../../audit/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { Clock } from '../../common/clock.js';
import { CoalescingRunner } from '../../common/coalescing-runner.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { DecisionRequests } from '../../decisions/decision-requests.js';
import { emailChannel, SEND_TIMEOUT_MS, smtpTransport, webhookChannel, type Deliver } from './channels.js';
import type { NotificationChannel, NotificationEvent } from './notification.entity.js';
import type { NotificationPayload } from './outbox.js';

/** A delivery of an event another feature sends through the outbox (its payload is its own). */
export type EventDelivery = (
  recipients: string[],
  payload: Record<string, unknown>,
  deliveryId: string,
) => Promise<void>;

const TICK_MS = 1000;
const BATCH = 20;
/**
 * A claimed notification is someone else's to retry after this (its sender died mid-send, or
 * lost the database before it could record the outcome). Three times a channel's time-out, so a
 * live sender has finished with it by then; it was 2 minutes, which kept an approval's outcome
 * from the approvers for that long after a replica crashed (the HA drill waits 45 s for them).
 */
const LEASE_MS = 3 * SEND_TIMEOUT_MS;
/** How long a delivered notification's "sent" is retried against a failing database (under the lease). */
const RECORD_SENT_MS = SEND_TIMEOUT_MS;
const MAX_BACKOFF_MS = 60 * 60_000;

interface DueRow {
  id: string;
  channel: NotificationChannel;
  event: string;
  request_id: string;
  recipients: string[];
  payload: NotificationPayload;
  attempts: number;
}

/**
 * Sends the outbox. Any replica may: a notification is claimed by moving its next
 * attempt past a lease (FOR UPDATE SKIP LOCKED), so two replicas never send the same one
 * at once. Failures are logged, audited and retried with exponential backoff up to
 * NOTIFY_MAX_ATTEMPTS; they never touch the request they are about.
 */
@Injectable()
export class NotificationSender implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Notifications');
  private readonly channels: Partial<Record<NotificationChannel, Deliver>> = {};
  /** Events another feature delivers itself (reports), through this outbox's claims and retries. */
  private readonly byEvent = new Map<string, EventDelivery>();
  private readonly closers: (() => void)[] = [];
  private readonly runner = new CoalescingRunner(
    async () => {
      while ((await this.sendDue()) === BATCH && !this.runner.isStopped);
    },
    (error) => this.logger.warn(`Could not read the notification outbox: ${error.message}`),
  );

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly requests: DecisionRequests,
  ) {
    const transport = smtpTransport(config);
    if (transport) {
      this.channels.email = emailChannel(transport, config.SMTP_FROM);
      this.closers.push(() => transport.close());
      if (config.SMTP_ALLOW_PLAINTEXT) {
        this.logger.warn('SMTP_ALLOW_PLAINTEXT is on: e-mail (and SMTP credentials) may cross the network unencrypted');
      }
    }
    if (config.WEBHOOK_URL && config.WEBHOOK_SECRET) {
      this.channels.webhook = webhookChannel(config.WEBHOOK_URL, config.WEBHOOK_SECRET, () => clock.now());
    }
  }

  /** Notifications given up and still queued, and the age of the oldest queued (metrics). */
  async backlog(now: Date): Promise<{ failed: number; queued: number; oldestQueuedSeconds: number }> {
    const [row] = await this.dataSource.query<{ failed: number; queued: number; oldest: number | null }[]>(
      `SELECT count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'pending')::int AS queued,
              extract(epoch FROM $1::timestamptz - min(created_at) FILTER (WHERE status = 'pending'))::float8 AS oldest
         FROM notifications WHERE status IN ('failed', 'pending')`,
      [now],
    );
    return { failed: row.failed, queued: row.queued, oldestQueuedSeconds: Math.max(0, row.oldest ?? 0) };
  }

  onModuleInit(): void {
    if (Object.keys(this.channels).length > 0) this.runner.every(TICK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    for (const close of this.closers) close();
  }

  /**
   * Lets a feature send its own event (e.g. intervention reports) through the outbox: claimed
   * once, retried with backoff, failures audited, like the approvals' notices.
   */
  deliverEvent(event: NotificationEvent, deliver: EventDelivery): void {
    this.byEvent.set(event, deliver);
  }

  /** Sends what is due now. */
  kick(): Promise<void> {
    return this.runner.run();
  }

  /** One batch; returns how many were due. */
  private async sendDue(): Promise<number> {
    const now = this.clock.now();
    // An UPDATE … RETURNING comes back from TypeORM as [rows, count].
    const [due] = await this.dataSource.query<[DueRow[], number]>(
      `UPDATE notifications SET attempts = attempts + 1, next_attempt_at = $2
        WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
        RETURNING id, channel, event, request_id, recipients, payload, attempts`,
      [now, new Date(now.getTime() + LEASE_MS)],
    );
    await Promise.all(due.map((n) => this.send(n)));
    return due.length;
  }

  private async send(n: DueRow): Promise<void> {
    const own = this.byEvent.get(n.event);
    const deliver: EventDelivery | undefined = own ?? (this.channels[n.channel] as EventDelivery | undefined);
    try {
      // Only the announcements of a pending request go stale; outcomes and break-glass do not.
      const forPending = n.event === 'request.created' || n.event === 'request.reminder';
      if (!own && forPending && !(await this.stillPending(n.request_id))) {
        // "Approval needed" for a request decided meanwhile would mislead: its outcome follows.
        await this.dataSource.query(`UPDATE notifications SET status = 'skipped' WHERE id = $1`, [n.id]);
        return;
      }
      if (!deliver) throw new Error(`the ${n.channel} channel is no longer configured`);
      await deliver(n.recipients, n.payload as unknown as Record<string, unknown>, n.id);
      await this.recordSent(n.id);
    } catch (error) {
      await this.failed(n, (error as Error).message);
    }
  }

  /**
   * Records a delivered notification as sent. A database blip at that moment (a fail-over, a
   * dropped connection) would otherwise leave it pending, and it would be sent again once its
   * lease ran out: the write is retried for RECORD_SENT_MS, well within the lease. Past that, it
   * is sent again later (at least once).
   */
  private async recordSent(id: string): Promise<void> {
    const giveUpAt = Date.now() + RECORD_SENT_MS;
    for (let wait = 250; ; wait = Math.min(2 * wait, 2000)) {
      try {
        await this.dataSource.query(
          `UPDATE notifications SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1`,
          [id, this.clock.now()],
        );
        return;
      } catch (error) {
        if (Date.now() + wait > giveUpAt || this.runner.isStopped) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private stillPending(requestId: string): Promise<boolean> {
    return this.requests.isPending(requestId, this.clock.now());
  }

  private async failed(n: DueRow, reason: string): Promise<void> {
    const giveUp = n.attempts >= this.config.NOTIFY_MAX_ATTEMPTS;
    const backoff = Math.min(this.config.NOTIFY_RETRY_BASE_SECONDS * 1000 * 2 ** (n.attempts - 1), MAX_BACKOFF_MS);
    const next = new Date(this.clock.now().getTime() + backoff);
    const what = `${n.channel} notification ${n.event} for request ${n.request_id} (attempt ${n.attempts})`;
    this.logger.warn(`${what} failed: ${reason}; ${giveUp ? 'giving up' : `retrying at ${next.toISOString()}`}`);
    try {
      await this.dataSource.query(
        `UPDATE notifications SET status = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1`,
        [n.id, giveUp ? 'failed' : 'pending', next, reason.slice(0, 1000)],
      );
      await this.audit.append(
        actorEvent({ type: 'system', id: 'notifications' }, 'notification.failed', {
          requestId: n.request_id,
          outcome: giveUp ? 'gave-up' : 'will-retry',
          details: { channel: n.channel, event: n.event, attempt: n.attempts, error: reason.slice(0, 500) },
        }),
      );
    } catch (error) {
      // The lease runs out and another round retries it.
      this.logger.warn(`Could not record the failure of the ${what}: ${(error as Error).message}`);
    }
  }
}
