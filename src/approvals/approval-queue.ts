import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import type { StaffPrincipal } from '../auth/principal.js';
import { notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DeviceEntity } from '../devices/device.entity.js';
import { DecisionRequestEntity, type RequestStatus } from '../decisions/decision-request.entity.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { effectiveReason, effectiveStatus } from '../decisions/decision-view.js';
import { GrantEntity } from './grants/grant.entity.js';
import { BreakGlassUseEntity, type ReviewVerdict } from './break-glass/break-glass-use.entity.js';
import { breakGlassRefusal, reviewRefusal } from './break-glass/break-glass-rights.js';
import { Approvers } from './approvers.js';
import { ApprovalVoteEntity } from './approval-vote.entity.js';
import { approverGroupsOf, canOnApproval, readScope } from './approver-rights.js';
import { QUEUE_SORTS, type QueueQuery } from './approvals.dto.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { AuditService } from '../audit/audit.service.js';

export interface ApprovalSummary {
  requestId: string;
  status: RequestStatus;
  createdAt: string;
  expiresAt: string | null;
  decidedAt: string | null;
  reason: string;
  device: {
    id: string;
    groups: string[];
    model: string | null;
    site: string | null;
    state: Record<string, unknown> | null;
    stateReportedAt: string | null;
    lastSeenAt: string | null;
  };
  action: string;
  remoteUser: { id: string; enterprise?: string; groups?: string[] };
  target: Record<string, string> | null;
  ticket: string | null;
  vendorReason: string | null;
  rules: string[];
  policyVersion: string | null;
  approval: {
    approvers: string[];
    required: number;
    given: number;
    stillNeeded: number;
    timeoutMinutes: number | null;
    maxGrantMinutes: number | null;
    breakGlass: boolean;
  };
  /** Set when a member of an emergency group allowed it alone; needsReview until another approver reviews it. */
  breakGlass: BreakGlassView | null;
  /** Whether the caller may decide it now, and if not why. */
  youMayDecide: boolean;
  whyNot?: string;
  /** Whether the caller may break the glass on it now (pending; BreakGlassService's own checks). */
  youMayBreakGlass: boolean;
  /** Whether the caller may review its break-glass now (unreviewed; another approver of the request). */
  youMayReview: boolean;
}

export interface ApprovalDetail extends ApprovalSummary {
  /** The people who may decide it (user names), as the approver groups and scopes stand now. */
  eligibleApprovers: string[];
  votes: { username: string; vote: string; comment: string | null; grantMinutes: number | null; at: string }[];
  grant: { id: string; expiresAt: string; endedAt: string | null } | null;
  history: { seq: number; at: string; event: string; actor: string; outcome: string; details: unknown }[];
}

export interface BreakGlassView {
  by: string;
  reason: string;
  grantMinutes: number | null;
  at: string;
  needsReview: boolean;
  review: { verdict: ReviewVerdict; comment: string; by: string; at: string } | null;
}

const breakGlassView = (u: BreakGlassUseEntity): BreakGlassView => ({
  by: u.username,
  reason: u.reason,
  grantMinutes: u.grantMinutes,
  at: u.createdAt.toISOString(),
  needsReview: u.reviewedAt === null,
  review: u.reviewedAt
    ? { verdict: u.reviewVerdict!, comment: u.reviewComment!, by: u.reviewedBy!, at: u.reviewedAt.toISOString() }
    : null,
});

/** The approvers' queue and one request in full: reads only, always within the caller's device scope. */
@Injectable()
export class ApprovalQueue {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly approvers: Approvers,
    private readonly requests: DecisionRequests,
    private readonly audit: AuditService,
  ) {}

  async list(staff: StaffPrincipal, q: QueueQuery): Promise<{ items: ApprovalSummary[]; nextCursor: string | null }> {
    const now = this.clock.now();
    const column = `r.${QUEUE_SORTS[q.sort]}`;
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    const qb = this.filtered(staff, q, now)
      .orderBy(column, dir)
      .addOrderBy('r.request_id', dir)
      .limit(q.limit + 1);
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      qb.andWhere(`(${column}, r.request_id) ${dir === 'ASC' ? '>' : '<'} (:cv, :cid)`, { cv: c.value, cid: c.id });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, q.limit);
    const items = await this.summaries(staff, page, now);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > q.limit && last
        ? encodeCursor({
            value: (q.sort === 'expiresAt' ? last.expiresAt : last.createdAt)!.toISOString(),
            id: last.requestId,
          })
        : null;
    return { items, nextCursor };
  }

  /**
   * How many requests are pending in the caller's scope, counted up to `cap` (the menu's
   * badge: "100+" needs no more). The queue's own filter, without building any summary.
   */
  async countPending(staff: StaffPrincipal, cap: number): Promise<number> {
    const query: Pick<QueueQuery, 'status'> = { status: 'pending' };
    const [sql, params] = this.filtered(staff, query, this.clock.now()).select('1').limit(cap).getQueryAndParameters();
    const [{ n }] = await this.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (${sql}) capped`,
      params,
    );
    return n;
  }

  /** The queue's rows for a query's filters and the caller's scope (no order, no cursor). */
  private filtered(staff: StaffPrincipal, q: Partial<QueueQuery> & Pick<QueueQuery, 'status'>, now: Date) {
    const qb = this.dataSource
      .getRepository(DecisionRequestEntity)
      .createQueryBuilder('r')
      .where('r.approval IS NOT NULL');
    // A break-glass allow is never pending: needsReview=true lists them whatever the (default) status.
    const status = q.needsReview === 'true' && q.status === 'pending' ? 'all' : q.status;
    if (q.needsReview !== undefined) {
      qb.andWhere(
        `r.request_id ${q.needsReview === 'true' ? 'IN' : 'NOT IN'} (SELECT request_id FROM break_glass_uses WHERE reviewed_at IS NULL)`,
      );
    }
    if (status === 'pending') qb.andWhere(`r.status = 'pending' AND r.expires_at > :now`, { now });
    else if (status === 'expired')
      qb.andWhere(`(r.status = 'expired' OR (r.status = 'pending' AND r.expires_at <= :now))`, { now });
    else if (status !== 'all') qb.andWhere('r.status = :status', { status });
    const scope = readScope(staff.roleBindings);
    if (scope !== '*') qb.andWhere('r.device_groups && :scope', { scope });
    if (q.deviceGroup) qb.andWhere(':group = ANY(r.device_groups)', { group: q.deviceGroup });
    if (q.action) qb.andWhere('r.action = :action', { action: q.action });
    if (q.deviceId) qb.andWhere('r.device_id = :deviceId', { deviceId: q.deviceId });
    if (q.minAgeMinutes !== undefined)
      qb.andWhere('r.created_at <= :oldest', { oldest: new Date(now.getTime() - q.minAgeMinutes * 60_000) });
    if (q.maxAgeMinutes !== undefined)
      qb.andWhere('r.created_at >= :newest', { newest: new Date(now.getTime() - q.maxAgeMinutes * 60_000) });
    return qb;
  }

  async get(staff: StaffPrincipal, requestId: string): Promise<ApprovalDetail> {
    const now = this.clock.now();
    const row = await this.requests.get(requestId);
    // Out of scope reads as not found: request ids cannot be probed.
    if (!row?.approval || !canOnApproval(staff.ability, 'read', row.deviceGroups)) {
      throw notFound('Approval request');
    }
    const [summary] = await this.summaries(staff, [row], now);
    // The request's own decision record is in the history (read barrier: it may wait in the inbox).
    await this.audit.sealPending();
    const [votes, grant, history, eligible] = await Promise.all([
      this.dataSource.getRepository(ApprovalVoteEntity).find({ where: { requestId }, order: { createdAt: 'ASC' } }),
      this.dataSource.getRepository(GrantEntity).findOneBy({ requestId }),
      this.dataSource.query<
        { seq: string; recorded_at: Date; event_type: string; actor_id: string; outcome: string; details: unknown }[]
      >(
        `SELECT seq, recorded_at, event_type, actor_id, outcome, details FROM audit_records
          WHERE request_id = $1 ORDER BY seq LIMIT 200`,
        [requestId],
      ),
      this.approvers.eligible(row),
    ]);
    return {
      ...summary,
      eligibleApprovers: eligible.map((p) => p.username),
      votes: votes.map((v) => ({
        username: v.username,
        vote: v.vote,
        comment: v.comment,
        grantMinutes: v.grantMinutes,
        at: v.createdAt.toISOString(),
      })),
      grant: grant
        ? { id: grant.id, expiresAt: grant.expiresAt.toISOString(), endedAt: grant.endedAt?.toISOString() ?? null }
        : null,
      history: history.map((h) => ({
        seq: Number(h.seq),
        at: new Date(h.recorded_at).toISOString(),
        event: h.event_type,
        actor: h.actor_id,
        outcome: h.outcome,
        details: h.details,
      })),
    };
  }

  /** One summary per request, with four queries for the page (devices, votes, the caller's identities and groups). */
  async summaries(staff: StaffPrincipal, rows: DecisionRequestEntity[], now: Date): Promise<ApprovalSummary[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.requestId);
    const [devices, counts, approver, uses] = await Promise.all([
      this.dataSource.getRepository(DeviceEntity).findBy({ id: In([...new Set(rows.map((r) => r.deviceId))]) }),
      this.dataSource.query<{ request_id: string; n: number; mine: boolean }[]>(
        `SELECT request_id, count(*) FILTER (WHERE vote = 'approve')::int AS n, bool_or(user_id = $2) AS mine
           FROM approval_votes WHERE request_id = ANY($1) GROUP BY request_id`,
        [ids, staff.user.id],
      ),
      this.approvers.approver(staff.user.id),
      this.dataSource.getRepository(BreakGlassUseEntity).findBy({ requestId: In(ids) }),
    ]);
    const useOf = new Map(uses.map((u) => [u.requestId, u]));
    const deviceById = new Map(devices.map((d) => [d.id, d]));
    const given = new Map(counts.map((c) => [c.request_id, c.n]));
    const answered = new Set(counts.filter((c) => c.mine).map((c) => c.request_id));
    return rows.map((r) => {
      const status = effectiveStatus(r, now.getTime());
      const a = r.approval as {
        required?: number;
        timeoutMinutes?: number;
        maxGrantMinutes?: number;
        breakGlass?: boolean;
      };
      const use = useOf.get(r.requestId);
      const d = deviceById.get(r.deviceId);
      const n = given.get(r.requestId) ?? 0;
      const whyNot =
        status !== 'pending'
          ? `The request is ${status}`
          : answered.has(r.requestId)
            ? 'You have already answered this request'
            : this.approvers.refusal(approver, r);
      const mayBreakGlass =
        status === 'pending' &&
        breakGlassRefusal(this.config.BREAK_GLASS_GROUPS, staff.ability, approver, r) === undefined;
      const mayReview =
        use !== undefined &&
        use.reviewedAt === null &&
        reviewRefusal(this.approvers.refusal(approver, r), use, staff.user.id) === undefined;
      return {
        requestId: r.requestId,
        status,
        createdAt: r.createdAt.toISOString(),
        expiresAt: r.expiresAt?.toISOString() ?? null,
        decidedAt: r.decidedAt?.toISOString() ?? (status === 'expired' ? r.expiresAt!.toISOString() : null),
        reason: effectiveReason(r, now.getTime()),
        device: {
          id: r.deviceId,
          groups: r.deviceGroups,
          model: d?.model ?? null,
          site: d?.site ?? null,
          state: d?.state ?? null,
          stateReportedAt: d?.stateReportedAt?.toISOString() ?? null,
          lastSeenAt: d?.lastSeenAt?.toISOString() ?? null,
        },
        action: r.action,
        remoteUser: r.remoteUser,
        target: r.target,
        ticket: r.context?.ticket ?? null,
        vendorReason: r.context?.reason ?? null,
        rules: r.ruleIds,
        policyVersion: r.policyVersion,
        approval: {
          approvers: approverGroupsOf(r),
          required: a.required ?? 1,
          given: n,
          stillNeeded: status === 'pending' ? Math.max(0, (a.required ?? 1) - n) : 0,
          timeoutMinutes: a.timeoutMinutes ?? null,
          maxGrantMinutes: a.maxGrantMinutes ?? null,
          breakGlass: a.breakGlass === true,
        },
        breakGlass: use ? breakGlassView(use) : null,
        youMayDecide: whyNot === undefined,
        ...(whyNot ? { whyNot } : {}),
        youMayBreakGlass: mayBreakGlass,
        youMayReview: mayReview,
      };
    });
  }
}
