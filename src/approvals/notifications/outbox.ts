import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import type { DecisionRequestEntity } from '../../decisions/decision-request.entity.js';
import { effectiveStatus } from '../../decisions/decision-view.js';
import { Approvers } from '../approvers.js';
import type { NotificationChannel, NotificationEvent } from './notification.entity.js';

/** What every channel says about a request: enough to decide whether to open it. */
export interface NotificationPayload {
  event: Extract<NotificationEvent, `request.${string}`>;
  requestId: string;
  status: string;
  deviceId: string;
  deviceGroups: string[];
  action: string;
  remoteUser: { id: string; enterprise?: string };
  target: Record<string, string> | null;
  ticket: string | null;
  /** The vendor's stated reason. */
  vendorReason: string | null;
  /** Gatehouse's reason (which rules asked, or the outcome). */
  reason: string;
  rules: string[];
  approvers: string[];
  required: number;
  expiresAt: string | null;
  /** The request's page in the console (after sign-in if needed). */
  link: string;
  /** The same request in the staff API, for integrations. */
  apiLink: string;
  decidedBy?: string[];
  /** For request.break-glass: who allowed it alone, and why. */
  breakGlass?: { by: string; reason: string; grantMinutes: number | null };
  at: string;
}

/**
 * Enqueues notifications in the caller's transaction (they are sent only if the change
 * commits, and are not lost if the process dies before sending). Channels that are not
 * configured are skipped; a request whose approvers have no e-mail address gets none.
 */
@Injectable()
export class NotificationOutbox {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly approvers: Approvers,
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.SMTP_URL || this.config.WEBHOOK_URL);
  }

  /**
   * Called by ApprovalJobs in its own transaction (never in a decision's): e-mail goes to
   * the people who may decide the request now, less those who have answered already (for
   * a reminder); the webhook gets every event.
   */
  async enqueue(m: EntityManager, event: NotificationPayload['event'], request: DecisionRequestEntity): Promise<void> {
    if (!this.enabled) return;
    const now = this.clock.now();
    const votes = await m.query<{ user_id: string; username: string; vote: string }[]>(
      'SELECT user_id, username, vote FROM approval_votes WHERE request_id = $1 ORDER BY created_at',
      [request.requestId],
    );
    const decidedBy =
      event === 'request.decided'
        ? votes
            .filter((v) => (request.status === 'rejected' ? v.vote === 'reject' : v.vote === 'approve'))
            .map((v) => v.username)
        : undefined;
    const breakGlass =
      event === 'request.break-glass' || (event === 'request.decided' && decidedBy?.length === 0)
        ? await this.breakGlassOf(m, request.requestId)
        : undefined;
    // An approval without votes was a break-glass: its outcome names the person who broke it.
    const payload = this.payload(event, request, now, breakGlass && decidedBy ? [breakGlass.by] : decidedBy);
    if (event === 'request.break-glass') payload.breakGlass = breakGlass;
    const channels: { channel: NotificationChannel; recipients: string[] }[] = [];
    if (this.config.SMTP_URL) {
      const answered = new Set(event === 'request.reminder' ? votes.map((v) => v.user_id) : []);
      const recipients = (await this.approvers.eligible(request, m))
        .filter((p) => p.email !== null && !answered.has(p.userId))
        .map((p) => p.email!)
        .sort();
      if (recipients.length > 0) channels.push({ channel: 'email', recipients });
    }
    // The webhook's URL may carry its own secret (chat services put one in the path): not stored here.
    if (this.config.WEBHOOK_URL) channels.push({ channel: 'webhook', recipients: ['webhook'] });
    for (const { channel, recipients } of channels) {
      await m.query(
        `INSERT INTO notifications (channel, event, request_id, recipients, payload, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (channel, event, request_id) DO NOTHING`,
        [channel, event, request.requestId, recipients, JSON.stringify(payload), now],
      );
    }
  }

  /**
   * Queues a report by e-mail in the caller's transaction, keyed by `key` (a request id, or a
   * digest's derived UUID): the outbox holds one per key, so a second call queues nothing.
   * Returns whether it was queued now. Reports are queued whatever `enabled` says: the report
   * job runs only when SMTP is configured.
   */
  async enqueueReport(
    m: EntityManager,
    event: Extract<NotificationEvent, `report.${string}`>,
    key: string,
    recipients: string[],
    payload: object,
    now: Date,
  ): Promise<boolean> {
    const rows = await m.query<unknown[]>(
      `INSERT INTO notifications (channel, event, request_id, recipients, payload, next_attempt_at, created_at)
       VALUES ('email', $1, $2, $3, $4, $5, $5)
       ON CONFLICT (channel, event, request_id) DO NOTHING RETURNING id`,
      [event, key, recipients, JSON.stringify(payload), now],
    );
    return rows.length > 0;
  }

  private async breakGlassOf(m: EntityManager, requestId: string): Promise<NotificationPayload['breakGlass']> {
    const [use] = await m.query<{ username: string; reason: string; grant_minutes: number | null }[]>(
      'SELECT username, reason, grant_minutes FROM break_glass_uses WHERE request_id = $1',
      [requestId],
    );
    return use ? { by: use.username, reason: use.reason, grantMinutes: use.grant_minutes } : undefined;
  }

  private payload(
    event: NotificationPayload['event'],
    r: DecisionRequestEntity,
    now: Date,
    decidedBy?: string[],
  ): NotificationPayload {
    const approval = (r.approval ?? {}) as { approvers?: string[]; required?: number };
    return {
      event,
      requestId: r.requestId,
      status: effectiveStatus(r, now.getTime()),
      deviceId: r.deviceId,
      deviceGroups: r.deviceGroups,
      action: r.action,
      remoteUser: { id: r.remoteUser.id, enterprise: r.remoteUser.enterprise },
      target: r.target,
      ticket: r.context?.ticket ?? null,
      vendorReason: r.context?.reason ?? null,
      reason: r.reason,
      rules: r.ruleIds,
      approvers: approval.approvers ?? [],
      required: approval.required ?? 1,
      expiresAt: r.expiresAt?.toISOString() ?? null,
      link: `${this.config.PUBLIC_URL ?? ''}/approvals/${r.requestId}`,
      apiLink: `${this.config.PUBLIC_URL ?? ''}/api/v1/approvals/${r.requestId}`,
      ...(decidedBy ? { decidedBy } : {}),
      at: now.toISOString(),
    };
  }
}
