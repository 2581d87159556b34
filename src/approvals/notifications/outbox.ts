import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import type { DecisionRequestEntity } from '../../decisions/decision-request.entity.js';
import { effectiveStatus } from '../../decisions/decision-view.js';
import { RolesService } from '../../users/roles.service.js';
import type { NotificationChannel, NotificationEvent } from './notification.entity.js';
import { approverAddresses } from './recipients.js';

/** What every channel says about a request: enough to decide whether to open it. */
export interface NotificationPayload {
  event: NotificationEvent;
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
  link: string;
  decidedBy?: string[];
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
    private readonly roles: RolesService,
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.SMTP_URL || this.config.WEBHOOK_URL);
  }

  async enqueue(
    m: EntityManager,
    event: NotificationEvent,
    request: DecisionRequestEntity,
    decidedBy?: string[],
  ): Promise<void> {
    if (!this.enabled) return;
    const now = this.clock.now();
    const payload = this.payload(event, request, now, decidedBy);
    const channels: { channel: NotificationChannel; recipients: string[] }[] = [];
    if (this.config.SMTP_URL) {
      const recipients = await approverAddresses(m, this.roles, request);
      if (recipients.length > 0) channels.push({ channel: 'email', recipients });
    }
    if (this.config.WEBHOOK_URL) channels.push({ channel: 'webhook', recipients: [this.config.WEBHOOK_URL] });
    for (const { channel, recipients } of channels) {
      await m.query(
        `INSERT INTO notifications (channel, event, request_id, recipients, payload, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (channel, event, request_id) DO NOTHING`,
        [channel, event, request.requestId, recipients, JSON.stringify(payload), now],
      );
    }
  }

  private payload(
    event: NotificationEvent,
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
      link: `${this.config.PUBLIC_URL ?? ''}/api/v1/approvals/${r.requestId}`,
      ...(decidedBy ? { decidedBy } : {}),
      at: now.toISOString(),
    };
  }
}
