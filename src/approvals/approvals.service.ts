import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { actorEvent, type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { conflict, forbidden, invalidField, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { NotificationBus } from '../database/notification-bus.js';
import type { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { GatehouseMetrics } from '../metrics/gatehouse-metrics.js';
import { effectiveStatus } from '../decisions/decision-view.js';
import { GrantEntity } from './grants/grant.entity.js';
import { targetKey } from './grants/grant-lookup.js';
import { ApprovalVoteEntity, type Vote } from './approval-vote.entity.js';
import { Approvers } from './approvers.js';
import type { ApproveBody, RejectBody } from './approvals.dto.js';
import { requestEventFields } from './request-event-fields.js';

interface Approval {
  approvers: string[];
  required: number;
  maxGrantMinutes?: number;
}

/**
 * Approvers' answers. INVARIANT (security-and-reliability.md 8): a request is decided
 * once. The request row is locked for the whole vote (SELECT … FOR UPDATE), each
 * approver's vote is unique per request, and the final change is conditional on the
 * request still being pending and unexpired, so concurrent approvals, a reject racing an
 * approve, or an approval racing expiry end in exactly one outcome; the losers get 409.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly approvers: Approvers,
    private readonly bus: NotificationBus,
    private readonly requests: DecisionRequests,
    private readonly metrics: GatehouseMetrics,
  ) {}

  approve(staff: StaffPrincipal, requestId: string, body: ApproveBody, actor: Actor): Promise<void> {
    return this.vote(staff, requestId, 'approve', body, actor);
  }

  reject(staff: StaffPrincipal, requestId: string, body: RejectBody, actor: Actor): Promise<void> {
    return this.vote(staff, requestId, 'reject', body, actor);
  }

  private async vote(
    staff: StaffPrincipal,
    requestId: string,
    vote: Vote,
    body: ApproveBody,
    actor: Actor,
  ): Promise<void> {
    const approver = await this.approvers.approver(staff.user.id);
    const decidedAfterMs = await this.dataSource.transaction(async (m) => {
      const request = await this.requests.lockForUpdate(m, requestId);
      // The time is read once the row is ours: a vote that waited for the lock past the
      // request's expiry must see it expired.
      const now = this.clock.now();
      if (!request?.approval) throw notFound('Approval request');
      const refusal = this.approvers.refusal(approver, request);
      if (refusal) throw forbidden(refusal);
      const status = effectiveStatus(request, now.getTime());
      if (status !== 'pending') throw conflict(`Request ${requestId} is ${status}, no longer pending`);
      const approval = request.approval as unknown as Approval;
      if (body.grantMinutes !== undefined) checkGrant(body.grantMinutes, approval);

      const votes = await m.getRepository(ApprovalVoteEntity).findBy({ requestId });
      if (votes.some((v) => v.userId === staff.user.id)) {
        throw conflict(`You have already answered request ${requestId}; each approver counts once`);
      }
      const mine = m.getRepository(ApprovalVoteEntity).create({
        requestId,
        userId: staff.user.id,
        username: staff.user.username,
        vote,
        comment: body.comment ?? null,
        grantMinutes: body.grantMinutes ?? null,
        createdAt: now,
      });
      await m.getRepository(ApprovalVoteEntity).insert(mine);
      const approvals = [...votes, mine].filter((v) => v.vote === 'approve');
      const final = vote === 'reject' ? 'rejected' : approvals.length >= approval.required ? 'approved' : undefined;

      const events = [
        actorEvent(actor, vote === 'approve' ? 'approval.approved' : 'approval.rejected', {
          outcome: final ?? 'recorded',
          ...requestEventFields(request),
          approvers: approval.approvers,
          details: {
            comment: body.comment ?? null,
            grantMinutes: body.grantMinutes ?? null,
            approvalsGiven: approvals.length,
            approvalsRequired: approval.required,
          },
        }),
      ];
      let grant: GrantEntity | undefined;
      if (final) {
        const deciders = vote === 'reject' ? [staff.user.username] : approvals.map((v) => v.username);
        grant = final === 'approved' ? grantFor(request, approvals, deciders, now) : undefined;
        await this.decideIfStillPending(m, request, final, now, grant);
        if (grant) {
          await m.getRepository(GrantEntity).insert(grant);
          events.push(
            actorEvent(actor, 'grant.created', {
              deviceId: request.deviceId,
              action: request.action,
              remoteUser: request.remoteUser.id,
              requestId,
              approvers: deciders,
              details: { grantId: grant.id, expiresAt: grant.expiresAt.toISOString(), target: request.target },
            }),
          );
        }
      }
      // Audit last: every transaction takes the chain's lock after its row locks (no deadlocks).
      await this.audit.appendIn(m, ...events);
      return final ? now.getTime() - request.createdAt.getTime() : undefined;
    });
    if (decidedAfterMs !== undefined) this.metrics.approvalSeconds.observe(decidedAfterMs / 1000);
    // Long polls (any replica), the console's queue stream and the notifier hear of every change.
    await this.bus.publish('decision.changed', requestId);
  }

  /**
   * Break-glass (break-glass.service.ts): the request approved by one person alone, in the
   * caller's transaction, with its row locked and who may checked; a grant as for a vote,
   * bounded by the rules' maxGrantMinutes (400 beyond).
   */
  async allowAlone(
    m: EntityManager,
    request: DecisionRequestEntity,
    a: { username: string; grantMinutes?: number; reason: string; now: Date },
  ): Promise<{ grant: GrantEntity | undefined; reason: string }> {
    const approval = request.approval as unknown as Approval;
    if (a.grantMinutes !== undefined) checkGrant(a.grantMinutes, approval);
    const grant = a.grantMinutes !== undefined ? newGrant(request, [a.username], a.grantMinutes, a.now) : undefined;
    await this.decideIfStillPending(m, request, 'approved', a.now, grant, a.reason);
    if (grant) await m.getRepository(GrantEntity).insert(grant);
    return { grant, reason: a.reason };
  }

  /**
   * The conditional state change; 409 if the request stopped being pending meanwhile.
   * (One rejection decides: any approver in scope can stop an action, as anyone on a ward
   * can stop a procedure; approving needs `required` people.)
   */
  private async decideIfStillPending(
    m: EntityManager,
    request: DecisionRequestEntity,
    final: 'approved' | 'rejected',
    now: Date,
    grant: GrantEntity | undefined,
    givenReason?: string,
  ): Promise<void> {
    // The approved request itself must be acted on soon, like any allow; repeats later go
    // through the grant, which can be ended early.
    const validUntil =
      final === 'approved'
        ? new Date(
            Math.min(
              now.getTime() + this.config.DECISION_VALID_MINUTES * 60_000,
              grant?.expiresAt.getTime() ?? Infinity,
            ),
          )
        : null;
    const reason =
      givenReason ??
      (final === 'approved'
        ? `Approved by hospital approvers (${request.ruleIds.join(', ') || 'default'})`
        : 'Rejected by a hospital approver');
    const settled = await this.requests.settle(m, request.requestId, {
      status: final,
      decidedAt: now,
      validUntil,
      reason,
    });
    if (!settled) throw conflict(`Request ${request.requestId} is no longer pending`);
  }
}

function checkGrant(minutes: number, approval: Approval): void {
  if (approval.maxGrantMinutes === undefined) {
    throw invalidField('grantMinutes', 'the rules behind this request allow no grants (no maxGrantMinutes)');
  }
  if (minutes > approval.maxGrantMinutes) {
    throw invalidField(
      'grantMinutes',
      `at most ${approval.maxGrantMinutes} minutes for this request (maxGrantMinutes)`,
    );
  }
}

/**
 * A grant only when every approval asked for one: M-of-N approvers agree on repeats too,
 * for the shortest time any of them gave.
 */
function grantFor(
  request: DecisionRequestEntity,
  approvals: ApprovalVoteEntity[],
  deciders: string[],
  now: Date,
): GrantEntity | undefined {
  const minutes = approvals.map((v) => v.grantMinutes);
  if (minutes.some((n) => n === null)) return undefined;
  return newGrant(request, deciders, Math.min(...(minutes as number[])), now);
}

function newGrant(request: DecisionRequestEntity, deciders: string[], minutes: number, now: Date): GrantEntity {
  const grant = new GrantEntity();
  Object.assign(grant, {
    id: crypto.randomUUID(),
    requestId: request.requestId,
    deviceId: request.deviceId,
    action: request.action,
    remoteUserId: request.remoteUser.id,
    targetKey: targetKey(request.target),
    deviceGroups: request.deviceGroups,
    approvedBy: deciders,
    createdAt: now,
    expiresAt: new Date(now.getTime() + minutes * 60_000),
    endedAt: null,
    endedBy: null,
  });
  return grant;
}
