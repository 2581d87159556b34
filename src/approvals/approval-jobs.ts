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

const TICK_MS = 2000;
const APPROVAL_JOBS_LOCK_KEY = 0x6170_7072; // "appr"
const SYSTEM = { type: 'system' as const, id: 'approval-jobs' };

/** What each announcement marks, and which requests it is for (fixed SQL, never input). */
const ANNOUNCEMENTS: { event: NotificationPayload['event']; mark: string; which: string }[] = [
  {
    event: 'request.created',
    mark: 'notified_at',
    which: `status = 'pending' AND expires_at > $1 AND notified_at IS NULL`,
  },
  {
    event: 'request.reminder',
    mark: 'reminded_at',
    // APPROVAL_REMINDER_MINUTES before the expiry, or at half the time-out if that is sooner.
    which: `status = 'pending' AND expires_at > $1 AND reminded_at IS NULL AND notified_at IS NOT NULL
            AND expires_at - LEAST(make_interval(mins => $2::int), (expires_at - created_at) / 2) <= $1`,
  },
  {
    event: 'request.decided',
    mark: 'outcome_notified_at',
    // Only the approvers who were told of a request hear how it ended (cancellations too).
    which: `status IN ('approved', 'rejected', 'expired', 'cancelled') AND notified_at IS NOT NULL
            AND outcome_notified_at IS NULL`,
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
          deviceId: r.deviceId,
          action: r.action,
          remoteUser: r.remoteUser.id,
          requestId: r.requestId,
          ruleIds: r.ruleIds,
          policyVersion: r.policyVersion,
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
    const [rows] = await m.query<[{ request_id: string }[], number]>(
      `UPDATE decision_requests SET ${a.mark} = $1 WHERE approval IS NOT NULL AND ${a.which} RETURNING request_id`,
      params,
    );
    const requests: DecisionRequestEntity[] = await this.requests.byIds(
      m,
      rows.map((r) => r.request_id),
    );
    for (const r of requests) await this.outbox.enqueue(m, a.event, r);
  }
}
