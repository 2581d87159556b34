import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditEvent } from '../audit/audit-chain.js';
import { withOrigin, type Origin } from '../audit/actor.js';
import { AuditReads } from '../audit/audit-reads.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { withDeadline } from '../common/deadline.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { DeviceEntity } from '../devices/device.entity.js';
import type { OfflineDecision } from './agent-policy.dto.js';
import { checkOfflineDecision, type HeldPolicy } from './offline-check.js';
import { packedOfflineRules } from './offline-policy.service.js';
import { PolicyVersions } from './policy-versions.js';

/** The audit event of an uploaded offline decision. */
export const OFFLINE_DECISION_EVENT = 'decision.offline';
/** Its outcome when it needs a look (see offline-check.ts); otherwise 'allowed' or 'denied'. */
export const FLAGGED = 'flagged';

/** Uploads of offline decisions take turns: a request id is recorded once (advisory lock "offl"). */
const UPLOAD_LOCK = 0x6f66_666c;

/**
 * Offline decisions, uploaded when the agent reaches Gatehouse again: each audited once
 * (idempotent by request id), as the agent reports it, with Gatehouse's own verdict. They
 * are audit records only (no decision_requests row): the request is over, nobody approves
 * or completes it, and its story is its record.
 */
@Injectable()
export class OfflineDecisionsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly auditReads: AuditReads,
    private readonly versions: PolicyVersions,
    private readonly clock: Clock,
  ) {}

  /** Records the decisions not recorded before; returns how many that was. */
  async upload(device: DeviceEntity, decisions: OfflineDecision[], origin: Origin): Promise<number> {
    if (decisions.length === 0) return 0;
    const now = this.clock.now();
    const held = await withDeadline(
      this.heldPolicies(device, [...new Set(decisions.map((d) => d.policyVersion))]),
      this.config.DATABASE_TIMEOUT_MS,
      'Offline policy look-up',
    );
    const firsts = new Map<string, OfflineDecision>();
    for (const d of decisions) if (!firsts.has(d.requestId)) firsts.set(d.requestId, d);
    const events = [...firsts.values()].map((d) =>
      withOrigin(offlineEvent(device, d, held.get(d.policyVersion) ?? null, now), origin),
    );
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [UPLOAD_LOCK]);
      const recorded = await this.auditReads.requestsWithEvent(m, [...firsts.keys()], OFFLINE_DECISION_EVENT);
      const fresh = events.filter((e) => !recorded.has(e.requestId!));
      if (fresh.length > 0) await this.audit.appendIn(m, ...fresh);
      return fresh.length;
    });
  }

  /** The versions this device was given, each with its rules for this device. */
  private async heldPolicies(device: DeviceEntity, versions: string[]): Promise<Map<string, HeldPolicy>> {
    const rows = await this.dataSource.query<{ policy_version: string; first_issued_at: Date; valid_until: Date }[]>(
      `SELECT policy_version, first_issued_at, valid_until FROM offline_policy_issues
       WHERE device_id = $1 AND policy_version = ANY($2)`,
      [device.id, versions],
    );
    const held = new Map<string, HeldPolicy>();
    for (const row of rows) {
      const set = await this.versions.get(row.policy_version);
      if (!set) continue; // never happens: a version is stored before it is in force
      held.set(row.policy_version, {
        firstIssuedAt: row.first_issued_at,
        validUntil: row.valid_until,
        rules: packedOfflineRules(set, device),
      });
    }
    return held;
  }
}

function offlineEvent(device: DeviceEntity, d: OfflineDecision, held: HeldPolicy | null, now: Date): AuditEvent {
  const { ruleIds, flag } = checkOfflineDecision(d, held, now);
  return {
    eventType: OFFLINE_DECISION_EVENT,
    actorType: 'device',
    actorId: device.id,
    deviceId: device.id,
    action: d.action,
    remoteUser: d.remoteUser.id,
    outcome: flag ? FLAGGED : d.decision === 'allow' ? 'allowed' : 'denied',
    ruleIds,
    policyVersion: d.policyVersion,
    requestId: d.requestId,
    details: {
      decision: d.decision,
      decidedAt: d.decidedAt,
      flagged: flag !== null,
      ...(flag ? { flagReason: flag } : {}),
      enterprise: d.remoteUser.enterprise ?? null,
      remoteGroups: d.remoteUser.groups ?? [],
      target: d.target ?? null,
      context: d.context ?? null,
      deviceState: d.deviceState ?? null,
    },
  };
}
