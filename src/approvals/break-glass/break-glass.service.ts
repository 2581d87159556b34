import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { actorEvent, type Actor } from '../../audit/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import type { StaffPrincipal } from '../../auth/principal.js';
import { conflict, forbidden, notFound } from '../../common/api-error.js';
import { Clock } from '../../common/clock.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { NotificationBus } from '../../database/notification-bus.js';
import { DecisionRequests } from '../../decisions/decision-requests.js';
import { effectiveStatus } from '../../decisions/decision-view.js';
import { Approvers } from '../approvers.js';
import type { BreakGlassBody, ReviewBody } from '../approvals.dto.js';
import { ApprovalsService } from '../approvals.service.js';
import { NotificationOutbox } from '../notifications/outbox.js';
import { BreakGlassUseEntity } from './break-glass-use.entity.js';
import { emergencyRefusal, requestRefusal, reviewRefusal } from './break-glass-rights.js';
import { requestEventFields } from '../request-event-fields.js';

/**
 * Break-glass (issue 14, admin-api.md): when a request waits and no approver answers, a
 * member of an emergency group (BREAK_GLASS_GROUPS) allows it alone, with a reason, if
 * every rule that asked says `breakGlass: true`. Everything else about deciding holds: the
 * device must be in their scope, it must not be their own request, the request must be
 * pending, and a grant is bounded by the rules' maxGrantMinutes. Every approver hears of it
 * at once, and it "needs review" until another approver accepts it or raises an incident.
 */
@Injectable()
export class BreakGlassService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly approvers: Approvers,
    private readonly approvals: ApprovalsService,
    private readonly outbox: NotificationOutbox,
    private readonly bus: NotificationBus,
    private readonly requests: DecisionRequests,
  ) {}

  async breakGlass(staff: StaffPrincipal, requestId: string, body: BreakGlassBody, actor: Actor): Promise<void> {
    const person = await this.approvers.approver(staff.user.id);
    const refusal = emergencyRefusal(this.config.BREAK_GLASS_GROUPS, person);
    if (refusal) throw forbidden(refusal);
    await this.dataSource.transaction(async (m) => {
      const request = await this.requests.lockForUpdate(m, requestId);
      const now = this.clock.now();
      // As for votes: 403 (not 404) outside the scope.
      if (!request?.approval) throw notFound('Approval request');
      const refused = requestRefusal(staff.ability, person, request);
      if (refused) throw forbidden(refused);
      const status = effectiveStatus(request, now.getTime());
      if (status !== 'pending') throw conflict(`Request ${requestId} is ${status}, no longer pending`);

      const use = m.getRepository(BreakGlassUseEntity).create({
        requestId,
        userId: staff.user.id,
        username: staff.user.username,
        reason: body.reason.trim(),
        grantMinutes: body.grantMinutes ?? null,
        createdAt: now,
        reviewVerdict: null,
        reviewComment: null,
        reviewedById: null,
        reviewedBy: null,
        reviewedAt: null,
      });
      await m.getRepository(BreakGlassUseEntity).insert(use);
      const { grant, reason } = await this.approvals.allowAlone(m, request, {
        username: staff.user.username,
        grantMinutes: body.grantMinutes,
        // What the agent reads: who, not the clinical reason (that stays in the audit trail).
        reason: `Allowed by break-glass (${staff.user.username}); the hospital reviews it`,
        now,
      });
      const settled = (await this.requests.byIds(m, [requestId]))[0] ?? request;
      // Every approver of the rule, at once (the outbox sends after the commit).
      await this.outbox.enqueue(m, 'request.break-glass', settled);

      const fields = { ...requestEventFields(request), approvers: [staff.user.username] };
      const events = [
        actorEvent(actor, 'approval.break-glass', {
          ...fields,
          outcome: 'approved',
          details: { reason: use.reason, grantMinutes: use.grantMinutes, decision: reason },
        }),
      ];
      if (grant) {
        events.push(
          actorEvent(actor, 'grant.created', {
            ...fields,
            details: { grantId: grant.id, expiresAt: grant.expiresAt.toISOString(), target: request.target },
          }),
        );
      }
      // Audit last: every transaction takes the chain's lock after its row locks (no deadlocks).
      await this.audit.appendIn(m, ...events);
    });
    // The agent's long poll (any replica), the console's queue and the notifier hear of it.
    await this.bus.publish('decision.changed', requestId);
  }

  /** Another approver of the request reviews a break-glass allow: accept, or raise an incident. */
  async review(staff: StaffPrincipal, requestId: string, body: ReviewBody, actor: Actor): Promise<void> {
    const reviewer = await this.approvers.approver(staff.user.id);
    await this.dataSource.transaction(async (m) => {
      const request = await this.requests.get(requestId);
      if (!request?.approval) throw notFound('Approval request');
      // The same test as deciding the request: an approver of its rules, in scope, not their own.
      const approverRefusal = this.approvers.refusal(reviewer, request);
      if (approverRefusal) throw forbidden(approverRefusal);
      const use = await m
        .getRepository(BreakGlassUseEntity)
        .findOne({ where: { requestId }, lock: { mode: 'pessimistic_write' } });
      if (!use) throw notFound('Break-glass use of this request');
      const refusal = reviewRefusal(approverRefusal, use, staff.user.id);
      if (refusal) throw forbidden(refusal);
      if (use.reviewedAt) throw conflict(`Request ${requestId} was reviewed already by ${use.reviewedBy}`);
      const now = this.clock.now();
      await m.getRepository(BreakGlassUseEntity).update(
        { requestId },
        {
          reviewVerdict: body.verdict,
          reviewComment: body.comment.trim(),
          reviewedById: staff.user.id,
          reviewedBy: staff.user.username,
          reviewedAt: now,
        },
      );
      await this.audit.appendIn(
        m,
        actorEvent(actor, 'approval.break-glass-reviewed', {
          outcome: body.verdict === 'accept' ? 'accepted' : 'incident',
          ...requestEventFields(request),
          approvers: [use.username],
          details: { verdict: body.verdict, comment: body.comment.trim(), breakGlassBy: use.username },
        }),
      );
    });
    await this.bus.publish('decision.changed', requestId);
  }
}
