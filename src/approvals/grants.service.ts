import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { actorEvent, type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { conflict, forbidden, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import { GrantEntity } from './grants/grant.entity.js';
import { canOnApproval, readScope } from './approver-rights.js';

export interface GrantView {
  id: string;
  requestId: string;
  deviceId: string;
  deviceGroups: string[];
  action: string;
  remoteUser: string;
  target: Record<string, string> | null;
  approvedBy: string[];
  createdAt: string;
  expiresAt: string;
  endedAt: string | null;
  endedBy: string | null;
  live: boolean;
}

/** Approvers' and admins' view of "approve for N minutes" grants, and ending one early. */
@Injectable()
export class GrantsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly requests: DecisionRequests,
  ) {}

  async list(staff: StaffPrincipal, liveOnly: boolean, limit: number): Promise<GrantView[]> {
    const now = this.clock.now();
    const qb = this.dataSource
      .getRepository(GrantEntity)
      .createQueryBuilder('g')
      .orderBy('g.created_at', 'DESC')
      .limit(limit);
    if (liveOnly) qb.andWhere('g.ended_at IS NULL AND g.expires_at > :now', { now });
    const scope = readScope(staff.roleBindings);
    if (scope !== '*') qb.andWhere('g.device_groups && :scope', { scope });
    return (await qb.getMany()).map((g) => view(g, now));
  }

  /** Whether the grant this request made (if any) is live now. */
  async liveOf(requestId: string, now: Date): Promise<boolean> {
    return this.dataSource
      .getRepository(GrantEntity)
      .createQueryBuilder('g')
      .where('g.request_id = :requestId AND g.ended_at IS NULL AND g.expires_at > :now', { requestId, now })
      .getExists();
  }

  async end(staff: StaffPrincipal, grantId: string, actor: Actor): Promise<GrantView> {
    const ended = await this.dataSource.transaction(async (m) => {
      const now = this.clock.now();
      const grant = await m
        .getRepository(GrantEntity)
        .findOne({ where: { id: grantId }, lock: { mode: 'pessimistic_write' } });
      if (!grant || !canOnApproval(staff.ability, 'read', grant.deviceGroups)) {
        throw notFound('Grant');
      }
      if (!canOnApproval(staff.ability, 'decide', grant.deviceGroups)) {
        throw forbidden('Only approvers in scope and administrators may end a grant');
      }
      if (grant.endedAt || grant.expiresAt.getTime() <= now.getTime()) throw conflict(`Grant ${grantId} is not live`);
      grant.endedAt = now;
      grant.endedBy = actor.id;
      await m.getRepository(GrantEntity).update({ id: grantId }, { endedAt: now, endedBy: actor.id });
      await this.audit.appendIn(
        m,
        actorEvent(actor, 'grant.ended', {
          deviceId: grant.deviceId,
          action: grant.action,
          remoteUser: grant.remoteUserId,
          requestId: grant.requestId,
          approvers: grant.approvedBy,
          details: { grantId, expiresAt: grant.expiresAt.toISOString() },
        }),
      );
      return view(grant, now);
    });
    return ended;
  }

  /**
   * Ends the live grants made by one request, of one device, or of a vendor enterprise's
   * requests, in the caller's transaction ("End now", src/access/, which audits it), and
   * returns them. The conditional update makes racing ends end each grant once.
   */
  async endLiveIn(
    m: EntityManager,
    filter: { requestId: string } | { deviceId: string } | { enterprise: string },
    endedBy: string,
    now: Date,
  ): Promise<GrantEntity[]> {
    let enterpriseRequests: string[] = [];
    if ('enterprise' in filter) {
      // The enterprise is the request's (decisions owns decision_requests): of the requests
      // whose grants are live (few), those that came from it.
      const live = await m.query<{ request_id: string }[]>(
        'SELECT request_id FROM grants WHERE ended_at IS NULL AND expires_at > $1',
        [now],
      );
      const requestIds = live.map((g) => g.request_id);
      enterpriseRequests = await this.requests.fromEnterprise(m, requestIds, filter.enterprise);
      if (enterpriseRequests.length === 0) return [];
    }
    const qb = m
      .getRepository(GrantEntity)
      .createQueryBuilder()
      .update()
      .set({ endedAt: now, endedBy })
      .where('ended_at IS NULL AND expires_at > :now', { now })
      .returning('*');
    if ('requestId' in filter) qb.andWhere('request_id = :requestId', filter);
    else if ('deviceId' in filter) qb.andWhere('device_id = :deviceId', filter);
    else qb.andWhere('request_id = ANY(:enterpriseRequests)', { enterpriseRequests });
    const result = await qb.execute();
    return (result.raw as Record<string, unknown>[]).map((raw) => m.getRepository(GrantEntity).create(fromRaw(raw)));
  }
}

/** A row RETURNING gave, in the entity's own field names. */
function fromRaw(raw: Record<string, unknown>): Partial<GrantEntity> {
  return {
    id: raw.id as string,
    requestId: raw.request_id as string,
    deviceId: raw.device_id as string,
    action: raw.action as string,
    remoteUserId: raw.remote_user_id as string,
    targetKey: raw.target_key as string,
    deviceGroups: raw.device_groups as string[],
    approvedBy: raw.approved_by as string[],
    createdAt: raw.created_at as Date,
    expiresAt: raw.expires_at as Date,
    endedAt: raw.ended_at as Date | null,
    endedBy: raw.ended_by as string | null,
  };
}

function view(g: GrantEntity, now: Date): GrantView {
  return {
    id: g.id,
    requestId: g.requestId,
    deviceId: g.deviceId,
    deviceGroups: g.deviceGroups,
    action: g.action,
    remoteUser: g.remoteUserId,
    target: g.targetKey ? (JSON.parse(g.targetKey) as Record<string, string>) : null,
    approvedBy: g.approvedBy,
    createdAt: g.createdAt.toISOString(),
    expiresAt: g.expiresAt.toISOString(),
    endedAt: g.endedAt?.toISOString() ?? null,
    endedBy: g.endedBy,
    live: g.endedAt === null && g.expiresAt.getTime() > now.getTime(),
  };
}
