import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { actorEvent, type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { canOnApproval } from '../approvals/approver-rights.js';
import { GrantsService } from '../approvals/grants.service.js';
import { conflict, forbidden, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { NotificationBus } from '../database/notification-bus.js';
import type { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import type { GrantEntity } from '../approvals/grants/grant.entity.js';
import { LiveSessions, LONGEST_SESSION_MS } from '../decisions/live-sessions.js';
import { DevicesService } from '../devices/devices.service.js';
import type { EndScope } from './access-end.entity.js';

export interface AccessEnded {
  endedAt: string;
  reason: string;
  ended: { requestId: string; deviceId: string; session: boolean; grantId: string | null }[];
}

/**
 * Who may end accesses of devices in these groups: approvers in scope and administrators.
 * The API's checks below and the console's "End now" buttons ask the same.
 */
export const mayEndAccess = (staff: StaffPrincipal, deviceGroups: string[]): boolean =>
  canOnApproval(staff.ability, 'decide', deviceGroups);

type EndFilter = { requestId: string } | { deviceId: string } | { enterprise: string };

/** One request's access to end: its live session, the live grant it made, or both. */
interface Target {
  requestId: string;
  deviceId: string;
  action: string;
  remoteUser: string;
  session: DecisionRequestEntity | null;
  grant: GrantEntity | null;
}

/**
 * "End now" (issue 14; admin-api.md fixed points): approvers in scope and administrators
 * end live accesses (sessions allowed and not completed, grants). One transaction ends the
 * grants, records each end (access_ends: every replica and restart lists it to the agent)
 * and audits it; then long polls on every replica are woken.
 */
@Injectable()
export class AccessEndsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly bus: NotificationBus,
    private readonly sessions: LiveSessions,
    private readonly grants: GrantsService,
    private readonly devices: DevicesService,
  ) {}

  /** The live session of this request and/or the grant it made; 409 when neither is live. */
  async endRequest(staff: StaffPrincipal, requestId: string, reason: string, actor: Actor): Promise<AccessEnded> {
    const request = await this.sessions.find(requestId);
    // Outside the caller's scope a request reads as not found, so that ids cannot be probed.
    if (!request || !canOnApproval(staff.ability, 'read', request.deviceGroups)) throw notFound('Request');
    if (!mayEndAccess(staff, request.deviceGroups)) {
      throw forbidden('Only approvers in scope and administrators may end an access');
    }
    const ended = await this.end({ requestId }, 'request', reason, actor);
    if (ended.ended.length === 0) throw conflict(`Request ${requestId} has no live access to end`);
    return ended;
  }

  /** Whether the request has something to end now: a session not completed, or a live grant. */
  async isLive(requestId: string): Promise<boolean> {
    const now = this.clock.now();
    const [sessions, grants] = await Promise.all([
      this.sessions.live({ requestId }, now),
      this.grants.liveOf(requestId, now),
    ]);
    return sessions.length > 0 || grants;
  }

  /** Every live access of the device (possibly none). */
  async endDevice(staff: StaffPrincipal, deviceId: string, reason: string, actor: Actor): Promise<AccessEnded> {
    const device = await this.devices.getInScope(staff, deviceId, 'read');
    if (!mayEndAccess(staff, device.groups)) {
      throw forbidden('Only approvers in scope and administrators may end access to this device');
    }
    return this.end({ deviceId }, 'device', reason, actor);
  }

  /** Every live access of a vendor enterprise, on every device: administrators of all devices only. */
  async endEnterprise(staff: StaffPrincipal, enterprise: string, reason: string, actor: Actor): Promise<AccessEnded> {
    if (!staff.roleBindings.some((b) => b.role === 'admin' && b.devices === '*')) {
      throw forbidden("Only administrators of all devices may end a vendor's every access");
    }
    return this.end({ enterprise }, 'enterprise', reason, actor);
  }

  private async end(filter: EndFilter, scope: EndScope, reason: string, actor: Actor): Promise<AccessEnded> {
    const agentReason = `Ended by ${actor.id}: ${reason.trim()}`;
    const { now, ended } = await this.dataSource.transaction(async (m) => {
      const now = this.clock.now();
      const grants = await this.grants.endLiveIn(m, filter, actor.id, now);
      const sessions = await this.sessions.live(filter, now, m);
      // Sessions opened under an ended grant end with it.
      if (grants.length > 0)
        sessions.push(...(await this.sessions.live({ grantIds: grants.map((g) => g.id) }, now, m)));
      const ended: Target[] = [];
      for (const target of targetsOf(sessions, grants)) {
        if (await this.record(m, target, scope, agentReason, actor, now)) ended.push(target);
      }
      if (ended.length === 0) return { now, ended };
      await this.audit.appendIn(
        m,
        ...ended.map((t) =>
          actorEvent(actor, 'access.ended', {
            deviceId: t.deviceId,
            action: t.action,
            remoteUser: t.remoteUser,
            requestId: t.requestId,
            details: {
              reason: reason.trim(),
              scope,
              ...('enterprise' in filter ? { enterprise: filter.enterprise } : {}),
              session: t.session !== null,
              grantId: t.grant?.id ?? null,
            },
          }),
        ),
      );
      return { now, ended };
    });
    // Long polls on every replica (this one included) answer `ended` at once.
    for (const t of ended) await this.bus.publish('access.ended', t.requestId);
    return {
      endedAt: now.toISOString(),
      reason: agentReason,
      ended: ended.map((t) => ({
        requestId: t.requestId,
        deviceId: t.deviceId,
        session: t.session !== null,
        grantId: t.grant?.id ?? null,
      })),
    };
  }

  /**
   * Records the end; false when another end got there first (the session was already
   * ended). A grant is recorded even on an earlier end's row: the conditional update that
   * ended it above is the one that counts.
   */
  private async record(m: EntityManager, t: Target, scope: EndScope, reason: string, actor: Actor, now: Date) {
    // An INSERT answers its RETURNING rows (an UPDATE would answer [rows, count]).
    const rows = await m.query<{ request_id: string }[]>(
      `INSERT INTO access_ends (request_id, device_id, reason, ended_by, ended_at, scope, list_until,
         grant_id, grant_action, grant_remote_user_id, grant_target_key, grant_expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (request_id) DO UPDATE SET grant_id = EXCLUDED.grant_id, grant_action = EXCLUDED.grant_action,
         grant_remote_user_id = EXCLUDED.grant_remote_user_id, grant_target_key = EXCLUDED.grant_target_key,
         grant_expires_at = EXCLUDED.grant_expires_at
       WHERE access_ends.grant_id IS NULL AND EXCLUDED.grant_id IS NOT NULL
       RETURNING request_id`,
      [
        t.requestId,
        t.deviceId,
        reason,
        actor.id,
        now,
        scope,
        // The agent is told until it confirms, for as long as a session may run; a grant alone
        // has nothing running to stop.
        t.session ? new Date(t.session.createdAt.getTime() + LONGEST_SESSION_MS) : null,
        t.grant?.id ?? null,
        t.grant?.action ?? null,
        t.grant?.remoteUserId ?? null,
        t.grant?.targetKey ?? null,
        t.grant?.expiresAt ?? null,
      ],
    );
    return rows.length > 0;
  }
}

/** One target per request: a request that opened a session and made a grant ends both in one record. */
function targetsOf(sessions: DecisionRequestEntity[], grants: GrantEntity[]): Target[] {
  const byRequest = new Map<string, Target>();
  for (const s of sessions) {
    byRequest.set(s.requestId, {
      requestId: s.requestId,
      deviceId: s.deviceId,
      action: s.action,
      remoteUser: s.remoteUser.id,
      session: s,
      grant: null,
    });
  }
  for (const g of grants) {
    const t = byRequest.get(g.requestId);
    if (t) t.grant = g;
    else {
      byRequest.set(g.requestId, {
        requestId: g.requestId,
        deviceId: g.deviceId,
        action: g.action,
        remoteUser: g.remoteUserId,
        session: null,
        grant: g,
      });
    }
  }
  return [...byRequest.values()];
}
