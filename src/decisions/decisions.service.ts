import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { withOrigin, type Origin } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { AuditUnavailableError } from '../audit/audit-writer.js';
import { ApiError, conflict, ErrorCode, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { withDeadline } from '../common/deadline.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { DeviceEntity } from '../devices/device.entity.js';
import { groupsOfDevice } from '../devices/device-groups-of.js';
import type { DecisionInput, EngineDecision, TicketVerdict } from '../policies/engine/decision.types.js';
import { TicketChecks } from '../itsm/ticket-checks.js';
import { PolicyService } from '../policies/policy.service.js';
import { NotificationBus } from '../database/notification-bus.js';
import type { AccessEndsHook } from './access-ends-hook.js';
import { engineInput } from './engine-input.js';
import { DecisionRequestEntity } from './decision-request.entity.js';
import { toAnswer, type AgentAnswer } from './decision-view.js';
import { DecisionWaiters } from './decision-waiters.js';
import { DecisionWriter } from './decision-writer.js';
import type { DecideBody } from './decisions.dto.js';
import { GrantLookup, type Grant } from '../approvals/grants/grant-lookup.js';
import { GatehouseMetrics } from '../metrics/gatehouse-metrics.js';
import { LONGEST_SESSION_MS, SESSION_ACTIONS } from './live-sessions.js';

/** The hot path of the agent API: decide, record durably, answer; and the request's later life. */
@Injectable()
export class DecisionsService implements OnApplicationShutdown {
  private readonly writer: DecisionWriter;
  private readonly waiters = new DecisionWaiters();
  private readonly groupCache = new WeakMap<DeviceEntity, { version: string; groups: Set<string> }>();
  private accessEnds: AccessEndsHook | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly policies: PolicyService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly bus: NotificationBus,
    private readonly grants: GrantLookup,
    private readonly tickets: TicketChecks,
    private readonly metrics: GatehouseMetrics,
  ) {
    this.writer = new DecisionWriter(
      dataSource,
      clock,
      config.DATABASE_TIMEOUT_MS,
      metrics,
      () => audit.sealSoon(),
      audit.sealAdmission,
    );
    metrics.countLongPolls(() => this.waiters.open);
    this.bus.on('decision.changed', (message) => this.waiters.notify(message.key));
    this.bus.on('access.ended', (message) => this.waiters.notify(message.key));
  }

  /** "End now" (src/access/) plugs in here: ended accesses read as ended, and repeats under an ended grant are denied. */
  useAccessEnds(hook: AccessEndsHook): void {
    this.accessEnds = hook;
  }

  async decide(device: DeviceEntity, body: DecideBody, sourceAddress: string): Promise<AgentAnswer> {
    const started = performance.now();
    const now = this.clock.now();
    const bodyHash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const verdicts = await this.ticketVerdicts(device, body, now);
    let row = this.evaluate(device, body, now, bodyHash, verdicts);
    const grant =
      row.status === 'pending'
        ? await withDeadline(this.grants.find(grantKeyOf(row), now), this.config.DATABASE_TIMEOUT_MS, 'Grant look-up')
        : null;
    if (grant) row = this.allowedByGrant(row, grant, now);
    else row = await this.refusedAfterEnd(row, now);
    let inserted: boolean;
    try {
      let grantEnded: boolean;
      ({ inserted, grantEnded } = await this.writer.write({ row, event: this.auditEvent(row, sourceAddress, grant) }));
      if (grantEnded) {
        // The grant ended between the look-up and the commit: the request is what the rules say.
        row = await this.refusedAfterEnd(this.evaluate(device, body, now, bodyHash, verdicts), now);
        ({ inserted } = await this.writer.write({ row, event: this.auditEvent(row, sourceAddress, null) }));
      }
    } catch (error) {
      // INVARIANT: no answer without its durable record; the agent does not act on a 503.
      if (error instanceof AuditUnavailableError) {
        throw new ApiError(ErrorCode.Unavailable, 'The decision could not be recorded; do not act, retry later', [], {
          headers: { 'retry-after': '5' },
        });
      }
      throw error;
    }
    if (inserted) {
      // Approvers' queues (on every replica) and the notifier hear of the new request.
      if (row.status === 'pending') void this.bus.publish('decision.changed', row.requestId);
      this.metrics.decided(row.status, row.action, (performance.now() - started) / 1000, this.groupsOf(device));
      return toAnswer(row, now.getTime());
    }
    // The request id is known: the same request again gets the same answer; anything else is a conflict.
    const stored = await withDeadline(
      this.dataSource.getRepository(DecisionRequestEntity).findOneBy({ requestId: body.requestId }),
      this.config.DATABASE_TIMEOUT_MS,
      'Stored request look-up',
    );
    if (!stored || stored.deviceId !== device.id || stored.bodyHash !== bodyHash) {
      throw conflict(`Request ${body.requestId} was already used with another body`);
    }
    return this.withEnd(toAnswer(stored, this.clock.now().getTime()));
  }

  /**
   * The current answer; while pending, or while an allowed session is live (it may be
   * ended: agent-api.md 1.1), waits up to `waitSeconds` for a change.
   */
  async get(device: DeviceEntity, requestId: string, waitSeconds: number): Promise<AgentAnswer> {
    const deadline = this.clock.now().getTime() + waitSeconds * 1000;
    let first: AgentAnswer | null = null;
    for (;;) {
      const waiter = this.waiters.register(requestId);
      try {
        const row = await this.find(device, requestId);
        const now = this.clock.now().getTime();
        const answer = await this.withEnd(toAnswer(row, now));
        // A change since the poll began (approved, rejected, expired, ended) is the answer at once;
        // only a poll that began on a live session waits on to hear of its end.
        if (first !== null && (answer.status !== first.status || answer.ended !== first.ended)) return answer;
        first ??= answer;
        // Also wake when it changes by itself: a pending request expires, a live session's time runs out.
        const changesAt =
          answer.status === 'pending' ? (row.expiresAt ?? new Date(deadline)) : this.liveSessionUntil(row, answer, now);
        const left = Math.min(deadline, changesAt?.getTime() ?? deadline) - now;
        if (changesAt === null || left <= 0) return answer;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([waiter.woken, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
        clearTimeout(timer);
      } finally {
        waiter.cancel();
      }
      if (this.clock.now().getTime() >= deadline)
        return this.withEnd(toAnswer(await this.find(device, requestId), this.clock.now().getTime()));
    }
  }

  async cancel(device: DeviceEntity, requestId: string, origin: Origin): Promise<AgentAnswer> {
    const now = this.clock.now();
    const updated = await this.dataSource.transaction(async (m) => {
      const [rows] = await m.query<[{ request_id: string }[], number]>(
        `UPDATE decision_requests SET status = 'cancelled', decided_at = $3, reason = 'Cancelled by the vendor'
         WHERE request_id = $1 AND device_id = $2 AND status = 'pending' AND expires_at > $3 RETURNING request_id`,
        [requestId, device.id, now],
      );
      if (rows.length === 0) return false;
      await this.audit.appendIn(
        m,
        withOrigin(
          {
            eventType: 'decision.cancelled',
            actorType: 'device',
            actorId: device.id,
            deviceId: device.id,
            requestId,
            outcome: 'cancelled',
            policyVersion: this.policies.set?.version ?? null,
          },
          origin,
        ),
      );
      return true;
    });
    const row = await this.find(device, requestId);
    if (!updated) throw conflict(`Request ${requestId} is ${toAnswer(row, now.getTime()).status}, not pending`);
    // Long polls on every replica wake up (this one included).
    await this.bus.publish('decision.changed', requestId);
    return toAnswer(row, this.clock.now().getTime());
  }

  async complete(
    device: DeviceEntity,
    requestId: string,
    outcome: Record<string, unknown>,
    origin: Origin,
  ): Promise<AgentAnswer> {
    const now = this.clock.now();
    const row = await this.find(device, requestId);
    // An attended allow done without the operator's consent is recorded, and flagged for review.
    const consentMissing = row.obligations.includes('local-consent') && outcome.consent === undefined;
    const done = await this.dataSource.transaction(async (m) => {
      const [rows] = await m.query<[{ request_id: string }[], number]>(
        `UPDATE decision_requests SET completed_at = $3, outcome = $4
         WHERE request_id = $1 AND device_id = $2 AND status IN ('allowed', 'approved') AND completed_at IS NULL
         RETURNING request_id`,
        [requestId, device.id, now, JSON.stringify(outcome)],
      );
      if (rows.length === 0) return false;
      await this.audit.appendIn(
        m,
        withOrigin(
          {
            eventType: 'decision.completed',
            actorType: 'device',
            actorId: device.id,
            deviceId: device.id,
            action: row.action,
            remoteUser: row.remoteUser.id,
            requestId,
            outcome: String(outcome.outcome),
            ruleIds: row.ruleIds,
            policyVersion: row.policyVersion,
            details: consentMissing ? { ...outcome, consentMissing: true } : outcome,
          },
          origin,
        ),
      );
      await this.accessEnds?.confirmIn(m, row, outcome, origin);
      return true;
    });
    if (!done) throw conflict(`Request ${requestId} was not allowed, or its outcome is already reported`);
    return this.withEnd(toAnswer(await this.find(device, requestId), this.clock.now().getTime()));
  }

  async onApplicationShutdown(): Promise<void> {
    this.waiters.notifyAll();
    await this.writer.close();
  }

  /** An allowed request whose access was ended reads `ended: true` with the reason (agent-api.md 1.1). */
  private async withEnd(answer: AgentAnswer): Promise<AgentAnswer> {
    if (answer.decision !== 'allow' || !this.accessEnds) return answer;
    const end = await this.accessEnds.endOf(answer.requestId);
    return end ? { ...answer, ended: true, endReason: end.reason } : answer;
  }

  /** Until when a long poll on an allowed session waits to hear that it was ended (null: nothing to wait for). */
  private liveSessionUntil(row: DecisionRequestEntity, answer: AgentAnswer, now: number): Date | null {
    const live =
      this.accessEnds !== null &&
      answer.decision === 'allow' &&
      !answer.ended &&
      row.completedAt === null &&
      SESSION_ACTIONS.includes(row.action) &&
      row.createdAt.getTime() + LONGEST_SESSION_MS > now;
    return live ? new Date(row.createdAt.getTime() + LONGEST_SESSION_MS) : null;
  }

  /** A request the rules send to approvers is denied while the grant of its earlier approval stands ended. */
  private async refusedAfterEnd(row: DecisionRequestEntity, now: Date): Promise<DecisionRequestEntity> {
    if (row.status !== 'pending' || !this.accessEnds) return row;
    const refusal = await withDeadline(
      this.accessEnds.refusalFor(grantKeyOf(row), now),
      this.config.DATABASE_TIMEOUT_MS,
      'Ended grant look-up',
    );
    if (refusal === null) return row;
    return Object.assign(new DecisionRequestEntity(), row, {
      status: 'denied',
      decidedAt: now,
      expiresAt: null,
      approval: null,
      reason: refusal,
    });
  }

  /** A device sees only its own requests: another device's id reads as not found. */
  private async find(device: DeviceEntity, requestId: string): Promise<DecisionRequestEntity> {
    const row = await this.dataSource.getRepository(DecisionRequestEntity).findOneBy({ requestId });
    if (!row || row.deviceId !== device.id) throw notFound('Request');
    return row;
  }

  private engineInput(device: DeviceEntity, body: DecideBody, now: Date): DecisionInput {
    return engineInput(device, this.groupsOf(device), body, now.getTime());
  }

  /**
   * The ITSM's verdicts for the rules that would match but for their ticket `check`; none (and
   * no wait) for requests that no such rule concerns: the fast path stays as it was.
   */
  private ticketVerdicts(
    device: DeviceEntity,
    body: DecideBody,
    now: Date,
  ): ReadonlyMap<string, TicketVerdict> | Promise<ReadonlyMap<string, TicketVerdict>> {
    const rules = this.policies.engine?.ticketChecksFor(this.engineInput(device, body, now)) ?? [];
    if (rules.length === 0) return NO_VERDICTS;
    return this.tickets.verdicts(rules, body.context?.ticket, device.id, now);
  }

  private evaluate(
    device: DeviceEntity,
    body: DecideBody,
    now: Date,
    bodyHash: string,
    ticketVerdicts: ReadonlyMap<string, TicketVerdict>,
  ): DecisionRequestEntity {
    const engine = this.policies.engine;
    const result: EngineDecision = engine
      ? engine.decide({ ...this.engineInput(device, body, now), ticketVerdicts })
      : { decision: 'deny', decidedBy: 'default', ruleIds: [], errors: [] };
    const row = new DecisionRequestEntity();
    Object.assign(row, {
      requestId: body.requestId,
      deviceId: device.id,
      bodyHash,
      action: body.action,
      remoteUser: body.remoteUser,
      deviceGroups: [...this.groupsOf(device)].sort(),
      target: body.target ?? null,
      context: body.context ?? null,
      ruleIds: result.ruleIds,
      policyVersion: engine?.version ?? null,
      approval: result.approval ? { ...result.approval } : null,
      createdAt: now,
      decidedAt: result.decision === 'pending' ? null : now,
      expiresAt: null,
      validUntil: null,
      completedAt: null,
      outcome: null,
      grantId: null,
      obligations: result.obligations ?? [],
    });
    const rules = result.ruleIds.join(', ');
    switch (result.decision) {
      case 'allow': {
        const grantEnd = now.getTime() + this.config.DECISION_VALID_MINUTES * 60_000;
        row.status = 'allowed';
        row.reason = `Allowed by ${rules}`;
        row.validUntil = new Date(Math.min(grantEnd, result.windowEnd ?? Infinity));
        break;
      }
      case 'pending': {
        const a = result.approval;
        row.status = 'pending';
        row.expiresAt = new Date(now.getTime() + (a?.timeoutMinutes ?? 60) * 60_000);
        row.reason = `Needs ${a?.required ?? 1} approval(s) from ${a?.approvers.join(' or ') ?? 'an approver'} (${rules || 'default'})`;
        break;
      }
      case 'deny':
        row.status = 'denied';
        row.reason = !engine
          ? 'No valid policy set is loaded: denied'
          : result.decidedBy === 'default'
            ? 'No rule allows this: denied by default'
            : `Denied by ${rules}`;
        break;
    }
    // Why a rule that requires a ticket check did not decide as written (the answer says why).
    if (result.ticketNotes) row.reason += ` (ticket: ${result.ticketNotes.join('; ')})`;
    if (result.errors.length > 0)
      row.reason += ` (skipped rules that failed to evaluate: ${result.errors.map((e) => e.ruleId).join(', ')})`;
    return row;
  }

  /**
   * A repeat of a request that approvers approved "for N minutes" is allowed by that
   * grant (policy-files.md). Only an `ask` becomes an allow this way: a deny stays.
   */
  private allowedByGrant(pending: DecisionRequestEntity, grant: Grant, now: Date): DecisionRequestEntity {
    const row = Object.assign(new DecisionRequestEntity(), pending);
    row.status = 'allowed';
    row.decidedAt = now;
    row.expiresAt = null;
    row.grantId = grant.id;
    row.approval = null; // not a request for the approvers' queue
    row.validUntil = new Date(
      Math.min(grant.expiresAt.getTime(), now.getTime() + this.config.DECISION_VALID_MINUTES * 60_000),
    );
    row.reason =
      `Allowed by the approval of request ${grant.requestId} (${grant.approvedBy.join(', ')}) ` +
      `for repeats until ${grant.expiresAt.toISOString()}`;
    return row;
  }

  private groupsOf(device: DeviceEntity): Set<string> {
    const version = this.policies.set?.version ?? '';
    const cached = this.groupCache.get(device);
    if (cached?.version === version) return cached.groups;
    const groups = groupsOfDevice(device, this.policies.grouper);
    this.groupCache.set(device, { version, groups });
    return groups;
  }

  private auditEvent(row: DecisionRequestEntity, sourceAddress: string, grant: Grant | null) {
    return {
      eventType: 'decision',
      actorType: 'device' as const,
      actorId: row.deviceId,
      deviceId: row.deviceId,
      action: row.action,
      remoteUser: row.remoteUser.id,
      outcome: row.status,
      ruleIds: row.ruleIds,
      policyVersion: row.policyVersion,
      // A repeat allowed by a grant names the people who approved it; a pending request, its approver groups.
      approvers: grant ? grant.approvedBy : ((row.approval?.approvers as string[] | undefined) ?? []),
      sourceAddress,
      requestId: row.requestId,
      details: {
        enterprise: row.remoteUser.enterprise ?? null,
        remoteGroups: row.remoteUser.groups ?? [],
        target: row.target,
        context: row.context,
        reason: row.reason,
        validUntil: row.validUntil?.toISOString() ?? null,
        expiresAt: row.expiresAt?.toISOString() ?? null,
        ...(grant ? { grantId: grant.id, grantedByRequest: grant.requestId } : {}),
        // What the agent must do before acting (agent-api.md 1.1): reports read it from here.
        ...(row.obligations.length > 0 ? { obligations: row.obligations } : {}),
      },
    };
  }
}

const NO_VERDICTS: ReadonlyMap<string, TicketVerdict> = new Map();

const grantKeyOf = (row: DecisionRequestEntity) => ({
  deviceId: row.deviceId,
  action: row.action,
  remoteUserId: row.remoteUser.id,
  target: row.target,
});
