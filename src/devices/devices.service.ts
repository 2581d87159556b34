import { Inject, Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import type { StaffPrincipal } from '../auth/principal.js';
import { DataSource } from 'typeorm';
import type { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import { ApiError, conflict, ErrorCode, notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { withDeadline } from '../common/deadline.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { actorEvent, withOrigin, type Actor, type Origin } from '../audit/actor.js';
import type { AuditEvent } from '../audit/audit-chain.js';
import { DeviceEntity } from './device.entity.js';
import { groupsOfDevice } from './device-groups-of.js';
import type { EndNotice, HeartbeatEnds } from './heartbeat-ends.js';
import type { enrollSchema, heartbeatSchema } from './devices.dto.js';
import { EnrollmentTokensService } from './enrollment-tokens.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { NotificationBus } from '../database/notification-bus.js';
import { generateSecret, hashSecret } from './secrets.js';

/** How often agents should call back; reported state older than three intervals counts as unknown. */
export const POLL_INTERVAL_SECONDS = 30;
/** Reported state older than three poll intervals counts as unknown (agent-api.md). */
export const STATE_MAX_AGE_MS = 3 * POLL_INTERVAL_SECONDS * 1000;
const CREDENTIAL_CACHE_MS = 5_000;

export interface DeviceView {
  id: string;
  model: string;
  serialNumber: string | null;
  site: string | null;
  agentVersion: string | null;
  actions: string[];
  groups: string[];
  /** The enrollment token's groups that bound `groups` (null: no bound). */
  groupScope: string[] | null;
  enrolledAt: Date;
  lastSeenAt: Date | null;
  state: Record<string, unknown> | null;
  stateReportedAt: Date | null;
  stateFresh: boolean;
  revoked: boolean;
}

export interface DeviceChange {
  model?: string;
  site?: string | null;
  groupScope?: string[] | null;
}

/** The device registry: enrollment, credentials, revocation, reported state. */
@Injectable()
export class DevicesService {
  // Agents call often; a short cache keeps credential checks off the database. Revocation
  // clears the entry on this replica at once and on others within CREDENTIAL_CACHE_MS.
  private readonly byCredential = new Map<string, { device: DeviceEntity; until: number }>();
  private heartbeatEnds: HeartbeatEnds | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly tokens: EnrollmentTokensService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly policies: PolicyService,
    private readonly bus: NotificationBus,
  ) {
    // A device revoked or reset on another replica stops working here at once, too.
    this.bus.on('device.revoked', (message) => this.byCredential.delete(message.key));
  }

  /** "End now" (src/access/) plugs in here: each heartbeat answer lists the accesses to stop. */
  useHeartbeatEnds(ends: HeartbeatEnds): void {
    this.heartbeatEnds = ends;
  }

  async enroll(
    enrollmentToken: string,
    input: z.infer<typeof enrollSchema>,
    origin: Origin,
  ): Promise<{ deviceId: string; credential: string; pollIntervalSeconds: number }> {
    const credential = generateSecret('ghd');
    const outcome = await this.dataSource.transaction(async (m) => {
      const token = await this.tokens.consume(m, enrollmentToken);
      if (!token) return 'bad-token' as const;
      const inserted = await m.query<{ id: string }[]>(
        `INSERT INTO devices (id, model, serial_number, site, agent_version, actions, credential_hash, assigned_groups,
           enrollment_token_id, enrolled_at, group_scope)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          input.deviceId,
          input.model,
          input.serialNumber ?? null,
          input.site ?? null,
          input.agentVersion ?? null,
          input.actions ?? [],
          hashSecret(credential),
          token.deviceGroups,
          token.id,
          this.clock.now(),
          // A scoped token bounds the device's groups for good (until an administrator changes it).
          token.deviceGroups.length > 0 ? token.deviceGroups : null,
        ],
      );
      if (inserted.length === 0) return 'exists' as const;
      await this.audit.appendIn(
        m,
        withOrigin(
          {
            eventType: 'device.enrolled',
            actorType: 'device',
            actorId: input.deviceId,
            deviceId: input.deviceId,
            outcome: 'success',
            details: { model: input.model, site: input.site ?? null, tokenId: token.id, groups: token.deviceGroups },
          },
          origin,
        ),
      );
      return 'ok' as const;
    });
    if (outcome !== 'ok') {
      // The token use (if any) was rolled back with the transaction.
      await this.audit.append(
        withOrigin(
          {
            eventType: 'device.enrolled',
            actorType: 'anonymous',
            deviceId: input.deviceId,
            outcome: 'failure',
            details: { reason: outcome },
          },
          origin,
        ),
      );
      if (outcome === 'exists')
        throw conflict(`Device '${input.deviceId}' is already enrolled: an administrator must reset it first`);
      throw new ApiError(
        ErrorCode.Unauthenticated,
        'The enrollment token is not valid (unknown, expired, used up or revoked)',
      );
    }
    return { deviceId: input.deviceId, credential, pollIntervalSeconds: POLL_INTERVAL_SECONDS };
  }

  /** The live (not revoked) device holding this credential, or null. */
  async authenticate(credential: string): Promise<DeviceEntity | null> {
    const hash = hashSecret(credential);
    const now = Date.now();
    const cached = this.byCredential.get(hash);
    if (cached && cached.until > now) return cached.device;
    // Every agent call passes here: a silent database answers 503 in bounded time, not when it wakes.
    const device = await withDeadline(
      this.dataSource.getRepository(DeviceEntity).findOneBy({ credentialHash: hash }),
      this.config.DATABASE_TIMEOUT_MS,
      'Device credential check',
    );
    if (!device || device.revokedAt) {
      this.byCredential.delete(hash);
      return null;
    }
    this.byCredential.set(hash, { device, until: now + CREDENTIAL_CACHE_MS });
    return device;
  }

  async heartbeat(
    device: DeviceEntity,
    input: z.infer<typeof heartbeatSchema>,
  ): Promise<{ pollIntervalSeconds: number; end: EndNotice[] }> {
    const now = this.clock.now();
    await this.dataSource.query(
      `UPDATE devices SET last_seen_at = $2,
         agent_version = COALESCE($3, agent_version),
         state = CASE WHEN $4::jsonb IS NULL THEN state ELSE $4::jsonb END,
         state_reported_at = CASE WHEN $4::jsonb IS NULL THEN state_reported_at ELSE $2 END
       WHERE id = $1`,
      [device.id, now, input.agentVersion ?? null, input.state ? JSON.stringify(input.state) : null],
    );
    if (input.state) {
      device.state = input.state;
      device.stateReportedAt = now;
    }
    device.lastSeenAt = now;
    const end = this.heartbeatEnds ? await this.heartbeatEnds.endsFor(device, now) : [];
    return { pollIntervalSeconds: POLL_INTERVAL_SECONDS, end };
  }

  async list(): Promise<DeviceView[]> {
    const devices = await this.dataSource.getRepository(DeviceEntity).find({ order: { id: 'ASC' } });
    return devices.map((d) => this.view(d));
  }

  findEntity(deviceId: string): Promise<DeviceEntity | null> {
    return this.dataSource.getRepository(DeviceEntity).findOneBy({ id: deviceId });
  }

  /**
   * The device, if the caller may do `action` on it; outside the caller's scope it reads as
   * "not found", so that ids cannot be probed (the API and the console both check here).
   */
  async getInScope(staff: StaffPrincipal, deviceId: string, action: 'read' | 'manage'): Promise<DeviceView> {
    const device = await this.get(deviceId);
    if (!device || !staff.ability.can(action, subject('Device', { deviceGroups: device.groups }) as never)) {
      throw notFound('Device');
    }
    return device;
  }

  async get(deviceId: string): Promise<DeviceView | null> {
    const device = await this.dataSource.getRepository(DeviceEntity).findOneBy({ id: deviceId });
    return device ? this.view(device) : null;
  }

  view(d: DeviceEntity): DeviceView {
    return {
      id: d.id,
      model: d.model,
      serialNumber: d.serialNumber,
      site: d.site,
      agentVersion: d.agentVersion,
      actions: d.actions,
      groups: [...groupsOfDevice(d, this.policies.grouper)].sort(),
      groupScope: d.groupScope,
      enrolledAt: d.enrolledAt,
      lastSeenAt: d.lastSeenAt,
      state: d.state,
      stateReportedAt: d.stateReportedAt,
      stateFresh:
        d.stateReportedAt !== null && this.clock.now().getTime() - d.stateReportedAt.getTime() <= STATE_MAX_AGE_MS,
      revoked: d.revokedAt !== null,
    };
  }

  /** The groups the device would be in after the change (null: no such device). */
  async groupsAfter(deviceId: string, change: DeviceChange): Promise<string[] | null> {
    const device = await this.findEntity(deviceId);
    if (!device) return null;
    return [...groupsOfDevice(Object.assign(device, change), this.policies.grouper)];
  }

  /**
   * An administrator changes what the device claimed at enrollment (the agent cannot: the
   * heartbeat takes neither) or its group bound. Every replica drops its cached copy.
   */
  async update(deviceId: string, change: DeviceChange, actor: Actor): Promise<DeviceView> {
    const hash = await this.dataSource.transaction(async (m) => {
      const [rows] = await m.query<[{ credential_hash: string }[], number]>(
        `UPDATE devices SET model = CASE WHEN $2 THEN $3 ELSE model END, site = CASE WHEN $4 THEN $5 ELSE site END,
           group_scope = CASE WHEN $6 THEN $7::text[] ELSE group_scope END
         WHERE id = $1 RETURNING credential_hash`,
        [
          deviceId,
          change.model !== undefined,
          change.model ?? null,
          change.site !== undefined,
          change.site ?? null,
          change.groupScope !== undefined,
          change.groupScope ?? null,
        ],
      );
      if (rows.length === 0) throw notFound('Device');
      await this.audit.appendIn(m, actorEvent(actor, 'device.updated', { deviceId, details: { ...change } }));
      return rows[0].credential_hash;
    });
    this.byCredential.delete(hash);
    // The topic evicts the cached device on the other replicas (the credential itself stays valid).
    await this.bus.publish('device.revoked', hash).catch(() => undefined);
    return this.view((await this.findEntity(deviceId))!);
  }

  /** The credential stops working (401 on every later call). */
  async revoke(deviceId: string, actor: Actor): Promise<DeviceView> {
    await this.withdrawCredential(
      'UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING credential_hash',
      [deviceId, this.clock.now()],
      'Enrolled, unrevoked device',
      actorEvent(actor, 'device.revoked', { deviceId }),
    );
    return this.view((await this.dataSource.getRepository(DeviceEntity).findOneBy({ id: deviceId }))!);
  }

  /** Removes the enrollment so that the device can enroll again (with a new token); its history stays in the audit trail. */
  async reset(deviceId: string, actor: Actor): Promise<void> {
    await this.withdrawCredential(
      'DELETE FROM devices WHERE id = $1 RETURNING credential_hash',
      [deviceId],
      'Device',
      actorEvent(actor, 'device.reset', { deviceId }),
    );
  }

  /**
   * Runs `sql` (which returns the device's credential_hash), audits it, and makes the
   * credential stop working here at once and on the other replicas through the bus.
   */
  private async withdrawCredential(sql: string, params: unknown[], missing: string, event: AuditEvent): Promise<void> {
    const hash = await this.dataSource.transaction(async (m) => {
      const [rows] = await m.query<[{ credential_hash: string }[], number]>(sql, params);
      if (rows.length === 0) throw notFound(missing);
      await this.audit.appendIn(m, event);
      return rows[0].credential_hash;
    });
    // Evicted here even if the bus is down; the bus tells the other replicas.
    this.byCredential.delete(hash);
    await this.bus.publish('device.revoked', hash).catch(() => undefined);
  }
}
