import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { actorEvent } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { NotificationBus } from '../database/notification-bus.js';
import { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import { NotificationSender } from './notifications/notification-sender.js';
import { NotificationOutbox } from './notifications/outbox.js';
import type { NotificationEvent } from './notifications/notification.entity.js';

const TICK_MS = 2000;
const APPROVAL_JOBS_LOCK_KEY = 0x6170_7072; // "appr"
export const EXPIRED_REASON = 'No approver answered in time: expired';
const SYSTEM = { type: 'system' as const, id: 'approval-jobs' };

/**
 * The approvals' clockwork, on one replica at a time (a transaction-scoped advisory
 * lock; the others skip the round): pending requests past their time-out become
 * expired (they already READ as expired from that instant, decision-view.ts), new
 * requests are announced to their approvers, and requests close to expiry are
 * reminded. Each step is a conditional UPDATE, so a request is handled once.
 */
@Injectable()
export class ApprovalJobs implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ApprovalJobs');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly outbox: NotificationOutbox,
    private readonly sender: NotificationSender,
    private readonly bus: NotificationBus,
  ) {
    // A new pending request is announced at once, not at the next tick.
    this.bus.on('decision.changed', () => void this.kick());
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.kick(), TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.runOnce();
        } catch (error) {
          this.logger.warn(`Approval jobs round failed (retried in ${TICK_MS} ms): ${(error as Error).message}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** One round; returns the ids of the requests it expired (none when another replica holds the lock). */
  async runOnce(): Promise<string[]> {
    const now = this.clock.now();
    const expired = await this.dataSource.transaction(async (m) => {
      const [{ locked }] = await m.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        APPROVAL_JOBS_LOCK_KEY,
      ]);
      if (!locked) return [];
      const expiredRows = await this.expire(m, now);
      await this.announce(m, now, 'request.created', `notified_at IS NULL`, 'notified_at');
      await this.announce(
        m,
        now,
        'request.reminder',
        `reminded_at IS NULL AND
         expires_at - LEAST(make_interval(mins => $2::int), (expires_at - created_at) / 2) <= $1`,
        'reminded_at',
      );
      return expiredRows;
    });
    for (const id of expired) await this.bus.publish('decision.changed', id).catch(() => undefined);
    if (this.outbox.enabled) void this.sender.kick();
    return expired;
  }

  private async expire(m: EntityManager, now: Date): Promise<string[]> {
    const [rows] = await m.query<[{ request_id: string }[], number]>(
      `UPDATE decision_requests SET status = 'expired', decided_at = expires_at, reason = $2
        WHERE status = 'pending' AND expires_at <= $1 RETURNING request_id`,
      [now, EXPIRED_REASON],
    );
    if (rows.length === 0) return [];
    const requests = await this.load(m, rows);
    for (const r of requests) await this.outbox.enqueue(m, 'request.decided', r);
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

  /** Marks pending requests matching `condition` as told (column `mark`) and enqueues `event` for them. */
  private async announce(
    m: EntityManager,
    now: Date,
    event: NotificationEvent,
    condition: string,
    mark: 'notified_at' | 'reminded_at',
  ): Promise<void> {
    if (!this.outbox.enabled) return;
    const params: unknown[] = [now];
    if (condition.includes('$2')) params.push(this.config.APPROVAL_REMINDER_MINUTES);
    const [rows] = await m.query<[{ request_id: string }[], number]>(
      `UPDATE decision_requests SET ${mark} = $1
        WHERE status = 'pending' AND approval IS NOT NULL AND expires_at > $1 AND ${condition}
        RETURNING request_id`,
      params,
    );
    for (const r of await this.load(m, rows)) await this.outbox.enqueue(m, event, r);
  }

  private load(m: EntityManager, rows: { request_id: string }[]): Promise<DecisionRequestEntity[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return m.getRepository(DecisionRequestEntity).findBy({ requestId: In(rows.map((r) => r.request_id)) });
  }
}
