import { Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import { DataSource } from 'typeorm';
import { actorEvent, type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { conflict, forbidden, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { NotificationBus } from '../database/notification-bus.js';
import { GrantEntity } from '../decisions/grants/grant.entity.js';
import { readScope } from './approver-rights.js';

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
    private readonly bus: NotificationBus,
  ) {}

  async list(staff: StaffPrincipal, liveOnly: boolean, limit: number): Promise<GrantView[]> {
    const now = this.clock.now();
    const qb = this.dataSource
      .getRepository(GrantEntity)
      .createQueryBuilder('g')
      .orderBy('g.created_at', 'DESC')
      .limit(limit);
    if (liveOnly) qb.andWhere('g.ended_at IS NULL AND g.expires_at > :now', { now });
    const scope = readScope(staff.grants);
    if (scope !== '*') qb.andWhere('g.device_groups && :scope', { scope });
    return (await qb.getMany()).map((g) => view(g, now));
  }

  async end(staff: StaffPrincipal, grantId: string, actor: Actor): Promise<GrantView> {
    const ended = await this.dataSource.transaction(async (m) => {
      const now = this.clock.now();
      const grant = await m
        .getRepository(GrantEntity)
        .findOne({ where: { id: grantId }, lock: { mode: 'pessimistic_write' } });
      if (!grant || !staff.ability.can('read', subject('Approval', { deviceGroups: grant.deviceGroups }) as never)) {
        throw notFound('Grant');
      }
      if (!staff.ability.can('decide', subject('Approval', { deviceGroups: grant.deviceGroups }) as never)) {
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
    // Every replica drops it from its in-memory registry; a hit is re-checked in the database anyway.
    await this.bus.publish('grant.changed', grantId).catch(() => undefined);
    return ended;
  }
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
