import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { actorEvent } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { CoalescingRunner } from '../common/coalescing-runner.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { NotificationBus } from '../database/notification-bus.js';
import type { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { NotificationSender } from './notifications/notification-sender.js';
import { NotificationOutbox, type NotificationPayload } from './notifications/outbox.js';
import { requestEventFields } from './request-event-fields.js';

const TICK_MS = 2000;
const APPROVAL_JOBS_LOCK_KEY = 0x6170_7072; // "appr"
const SYSTEM = { type: 'system' as const, id: 'approval-jobs' };

/**
 * Each announcement marks, in approval_notices, the requests it is for and returns their ids
 * (fixed SQL, never input; $1 is now). The requests themselves are only read.
 */
const ANNOUNCEMENTS: { event: NotificationPayload['event']; sql: string }[] = [
  {
    event: 'request.created',
    sql: `INSERT INTO approval_notices (request_id, notified_at)
          SELECT r.request_id, $1 FROM decision_requests r
          WHERE r.approval IS NOT NULL AND r.status = 'pending' AND r.expires_at > $1
            AND NOT EXISTS (SELECT 1 FROM approval_notices n WHERE n.request_id = r.request_id)
          ON CONFLICT (request_id) DO NOTHING
          RETURNING request_id`,
  },
  {
    event: 'request.reminder',
    // APPROVAL_REMINDER_MINUTES ($2) before the expiry, or at half the time-out if that is sooner.
    sql: `UPDATE approval_notices n SET reminded_at = $1
          FROM decision_requests r
          WHERE r.request_id = n.request_id AND n.outcome_notified_at IS NULL AND n.reminded_at IS NULL
            AND r.status = 'pending' AND r.expires_at > $1
            AND r.expires_at - LEAST(make_interval(mins => $2::int), (r.expires_at - r.created_at) / 2) <= $1
          RETURNING n.request_id`,
  },
  {
    event: 'request.decided',
    // Only the approvers who were told of a request (it has a notice) hear how it ended, cancellations too.
    sql: `UPDATE approval_notices n SET outcome_notified_at = $1
          FROM decision_requests r
          WHERE r.request_id = n.request_id AND n.outcome_notified_at IS NULL
            AND r.status IN ('approved', 'rejected', 'expired', 'cancelled')
          RETURNING n.request_id`,
  },
];

/**
 * The approvals' clockwork, on one replica at a time (a transaction-scoped advisory lock;
 * the others skip the round): pending requests past their time-out become expired (they
 * already READ as expired from that instant, decision-view.ts), then new requests,
 * reminders and outcomes are announced to the approvers. Each step is a conditional
 * UPDATE, so a request is handled once. The announcements run in their own transaction,
 * away from the audit chain's lock, so notifying can neither hold up nor undo an expiry.
 */
@Injectable()
export class ApprovalJobs implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ApprovalJobs');
  private previousRound: Promise<unknown> = Promise.resolve();
  private readonly runner = new CoalescingRunner(
    () => this.runOnce().then(() => undefined),
    (error) => this.logger.warn(`Approval jobs round failed (retried in ${TICK_MS} ms): ${error.message}`),
  );

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly outbox: NotificationOutbox,
    private readonly sender: NotificationSender,
    private readonly bus: NotificationBus,
    private readonly requests: DecisionRequests,
  ) {
    // New requests and decisions are announced at once, not at the next tick.
    this.bus.on('decision.changed', () => void this.runner.run());
  }

  onModuleInit(): void {
    this.runner.every(TICK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  /**
   * One round; returns the ids of the requests it expired (none when another replica holds
   * the lock). Rounds of this process run one after another (a direct call waits for the
   * timer's round), so only another replica can make a call skip.
   */
  runOnce(): Promise<string[]> {
    const round = this.previousRound.then(() => this.round());
    this.previousRound = round.catch(() => undefined);
    return round;
  }

  private async round(): Promise<string[]> {
    const now = this.clock.now();
    const expired = await this.locked((m) => this.expire(m, now), []);
    for (const id of expired) await this.bus.publish('decision.changed', id);
    if (this.outbox.enabled) {
      await this.locked(async (m) => {
        for (const a of ANNOUNCEMENTS) await this.announce(m, now, a);
      }, undefined);
      void this.sender.kick();
    }
    return expired;
  }

  /** Runs `fn` in a transaction holding the jobs' lock, or returns `skipped` if another replica holds it. */
  private locked<T>(fn: (m: EntityManager) => Promise<T>, skipped: T): Promise<T> {
    return this.dataSource.transaction(async (m) => {
      const [{ locked }] = await m.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        APPROVAL_JOBS_LOCK_KEY,
      ]);
      return locked ? fn(m) : skipped;
    });
  }

  private async expire(m: EntityManager, now: Date): Promise<string[]> {
    const requests = await this.requests.expireDue(m, now);
    if (requests.length === 0) return [];
    // Audit last (after the row locks), like every other transaction: no deadlocks.
    await this.audit.appendIn(
      m,
      ...requests.map((r) =>
        actorEvent(SYSTEM, 'decision.expired', {
          outcome: 'expired',
          ...requestEventFields(r),
          approvers: (r.approval?.approvers as string[] | undefined) ?? [],
          details: { expiresAt: r.expiresAt?.toISOString() ?? null },
        }),
      ),
    );
    return requests.map((r) => r.requestId);
  }

  /** Marks the requests an announcement is for, and puts it in the outbox for each. */
  private async announce(m: EntityManager, now: Date, a: (typeof ANNOUNCEMENTS)[number]): Promise<void> {
    const params: unknown[] = a.event === 'request.reminder' ? [now, this.config.APPROVAL_REMINDER_MINUTES] : [now];
    // In a WITH, so that the driver answers rows alike for the INSERT and the UPDATEs.
    const rows = await m.query<{ request_id: string }[]>(
      `WITH marked AS (${a.sql}) SELECT request_id FROM marked`,
      params,
    );
    const requests: DecisionRequestEntity[] = await this.requests.byIds(
      m,
      rows.map((r) => r.request_id),
    );
    for (const r of requests) await this.outbox.enqueue(m, a.event, r);
  }
}
