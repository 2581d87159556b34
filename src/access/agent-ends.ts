import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { withOrigin, type Origin } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { NotificationBus } from '../database/notification-bus.js';
import type { AccessEndsHook } from '../decisions/access-ends-hook.js';
import type { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import { DecisionsService } from '../decisions/decisions.service.js';
import { targetKey, type GrantKeyParts } from '../approvals/grants/grant-lookup.js';
import { LiveSessions, LONGEST_SESSION_MS } from '../decisions/live-sessions.js';
import type { DeviceEntity } from '../devices/device.entity.js';
import { DevicesService } from '../devices/devices.service.js';
import type { EndNotice, HeartbeatEnds } from '../devices/heartbeat-ends.js';
import { SessionWindows } from './session-windows.js';

/** The agent is told why a session allowed in a time window must stop. */
export const WINDOW_CLOSED_REASON = 'time window closed';
/**
 * How far back a heartbeat looks for sessions whose time window has closed: the longest a
 * session counts as running (a window closes after the session's validUntil, its latest start).
 */
export const WINDOW_LOOKBACK_MS = LONGEST_SESSION_MS;

/**
 * The agent's side of "End now" (agent-api.md 1.1): heartbeats list the ended accesses
 * (and sessions whose time window closed), the decision calls read them as ended and deny
 * repeats under an ended grant, and `complete` confirms an end. Plugged into the decisions
 * and devices services, which this module depends on.
 */
@Injectable()
export class AgentEnds implements AccessEndsHook, HeartbeatEnds, OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly bus: NotificationBus,
    private readonly sessions: LiveSessions,
    private readonly windows: SessionWindows,
    private readonly decisions: DecisionsService,
    private readonly devices: DevicesService,
  ) {}

  onModuleInit(): void {
    this.decisions.useAccessEnds(this);
    this.devices.useHeartbeatEnds(this);
  }

  async endOf(requestId: string): Promise<{ reason: string } | null> {
    const [row] = await this.dataSource.query<{ reason: string }[]>(
      'SELECT reason FROM access_ends WHERE request_id = $1',
      [requestId],
    );
    return row ?? null;
  }

  async refusalFor(key: GrantKeyParts, now: Date): Promise<string | null> {
    const [row] = await this.dataSource.query<{ request_id: string; reason: string; grant_expires_at: Date }[]>(
      `SELECT request_id, reason, grant_expires_at FROM access_ends
       WHERE device_id = $1 AND grant_action = $2 AND grant_remote_user_id = $3 AND grant_target_key = $4
         AND grant_id IS NOT NULL AND grant_expires_at > $5
       ORDER BY grant_expires_at DESC LIMIT 1`,
      [key.deviceId, key.action, key.remoteUserId, targetKey(key.target), now],
    );
    if (!row) return null;
    return (
      `Denied: the approval of request ${row.request_id} for repeats was ended (${row.reason}); ` +
      `ask again after ${row.grant_expires_at.toISOString()}`
    );
  }

  async confirmIn(
    m: EntityManager,
    request: DecisionRequestEntity,
    outcome: Record<string, unknown>,
    origin: Origin,
  ): Promise<void> {
    const now = this.clock.now();
    const [rows] = await m.query<[{ reason: string; ended_by: string; ended_at: Date }[], number]>(
      `UPDATE access_ends SET confirmed_at = $2 WHERE request_id = $1 AND confirmed_at IS NULL
       RETURNING reason, ended_by, ended_at`,
      [request.requestId, now],
    );
    const end = rows[0];
    if (!end) return;
    await this.audit.appendIn(
      m,
      withOrigin(
        {
          eventType: 'access.end.confirmed',
          actorType: 'device',
          actorId: request.deviceId,
          deviceId: request.deviceId,
          action: request.action,
          remoteUser: request.remoteUser.id,
          requestId: request.requestId,
          outcome: String(outcome.outcome),
          details: {
            endedBy: end.ended_by,
            endedAt: end.ended_at.toISOString(),
            reason: end.reason,
            secondsToConfirm: (now.getTime() - end.ended_at.getTime()) / 1000,
          },
        },
        origin,
      ),
    );
  }

  /** What the heartbeat answer's `end` lists: the device's unconfirmed ends, and sessions whose window closed. */
  async endsFor(device: DeviceEntity, now: Date): Promise<EndNotice[]> {
    const listed = await this.dataSource.query<{ request_id: string; reason: string }[]>(
      `SELECT request_id, reason FROM access_ends
       WHERE device_id = $1 AND confirmed_at IS NULL AND list_until > $2 ORDER BY ended_at, request_id`,
      [device.id, now],
    );
    const notices = listed.map((r) => ({ requestId: r.request_id, reason: r.reason }));
    const known = new Set(notices.map((n) => n.requestId));
    const open = await this.sessions.openSince(device.id, new Date(now.getTime() - WINDOW_LOOKBACK_MS));
    const closed = open.filter((s) => !known.has(s.requestId) && this.windows.closed(s, now));
    for (const requestId of await this.endByWindow(closed, now)) {
      notices.push({ requestId, reason: WINDOW_CLOSED_REASON });
    }
    return notices;
  }

  /** Records and audits the ends of sessions whose time window closed (once each, whichever replica sees it first). */
  private async endByWindow(sessions: DecisionRequestEntity[], now: Date): Promise<string[]> {
    if (sessions.length === 0) return [];
    const ended = await this.dataSource.transaction(async (m) => {
      const ended: DecisionRequestEntity[] = [];
      for (const s of sessions) {
        // An INSERT answers its RETURNING rows (an UPDATE would answer [rows, count]).
        const rows = await m.query<{ request_id: string }[]>(
          `INSERT INTO access_ends (request_id, device_id, reason, ended_by, ended_at, scope, list_until)
           VALUES ($1, $2, $3, 'system', $4, 'window', $5) ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
          [s.requestId, s.deviceId, WINDOW_CLOSED_REASON, now, new Date(s.createdAt.getTime() + WINDOW_LOOKBACK_MS)],
        );
        if (rows.length > 0) ended.push(s);
      }
      if (ended.length > 0) {
        await this.audit.appendIn(
          m,
          ...ended.map((s) => ({
            eventType: 'access.ended',
            actorType: 'system' as const,
            actorId: 'system',
            deviceId: s.deviceId,
            action: s.action,
            remoteUser: s.remoteUser.id,
            requestId: s.requestId,
            outcome: 'success',
            ruleIds: s.ruleIds,
            policyVersion: s.policyVersion,
            details: { reason: WINDOW_CLOSED_REASON, scope: 'window', session: true, grantId: null },
          })),
        );
      }
      return ended;
    });
    for (const s of ended) await this.bus.publish('access.ended', s.requestId);
    return ended.map((s) => s.requestId);
  }
}
