import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AuditEvent } from '../audit/audit-chain.js';
import { normalizeEvent } from '../audit/audit-chain.js';
import { AuditUnavailableError, writeChained } from '../audit/audit-writer.js';
import type { Clock } from '../common/clock.js';
import { GroupCommitter } from '../common/group-commit.js';
import type { DecisionRequestEntity } from './decision-request.entity.js';

/**
 * `inserted` false: the request id was already stored (not written, not audited again).
 * `grantEnded` true: the answer was an allow by a grant that has ended since; nothing was
 * written and the caller decides again without it.
 */
export interface WriteResult {
  inserted: boolean;
  grantEnded: boolean;
}

export interface DecisionWrite {
  row: DecisionRequestEntity;
  event: AuditEvent;
}

/**
 * Writes a decision and its audit record in one transaction, many requests per commit.
 * INVARIANT: the promise resolves only after both are durable; the answer leaves after.
 * A request id already stored is not written again (nor audited again): `inserted` is
 * false and the caller answers from the stored request.
 */
export class DecisionWriter {
  private readonly logger = new Logger('DecisionWriter');
  private readonly committer: GroupCommitter<DecisionWrite, WriteResult>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    this.committer = new GroupCommitter(
      (items) => this.commit(items),
      (error) => {
        this.logger.error(`Decision could not be recorded: ${error.message}`);
        return new AuditUnavailableError(`The decision could not be recorded: ${error.message}`);
      },
    );
  }

  write(item: DecisionWrite): Promise<WriteResult> {
    return this.committer.submit({ row: item.row, event: normalizeEvent(item.event) });
  }

  close(): Promise<void> {
    return this.committer.close();
  }

  private commit(all: DecisionWrite[]): Promise<WriteResult[]> {
    return this.dataSource.transaction(async (manager) => {
      // Repeats allowed by a grant: the grant must still be live now, and stays so until this
      // commits (FOR SHARE against the FOR UPDATE of ending it), so no allow outlives its grant.
      const grantIds = [...new Set(all.map((i) => i.row.grantId).filter((id): id is string => id !== null))];
      let live = new Set<string>();
      if (grantIds.length > 0) {
        const rows = await manager.query<{ id: string }[]>(
          'SELECT id FROM grants WHERE id = ANY($1) AND ended_at IS NULL AND expires_at > $2 FOR SHARE',
          [grantIds, this.clock.now()],
        );
        live = new Set(rows.map((r) => r.id));
      }
      const ended = (i: DecisionWrite) => i.row.grantId !== null && !live.has(i.row.grantId);
      const items = all.filter((i) => !ended(i));
      const inserted = await manager.query<{ request_id: string }[]>(
        `INSERT INTO decision_requests (request_id, device_id, device_groups, body_hash, action, remote_user, target,
           context, status, reason, rule_ids, policy_version, approval, created_at, decided_at, expires_at, valid_until,
           grant_id)
         SELECT request_id, device_id, device_groups, body_hash, action, remote_user, target, context, status, reason,
           rule_ids, policy_version, approval, created_at, decided_at, expires_at, valid_until, grant_id
         FROM jsonb_to_recordset($1::jsonb) AS r(request_id uuid, device_id text, device_groups text[], body_hash text,
           action text, remote_user jsonb, target jsonb, context jsonb, status text, reason text, rule_ids text[],
           policy_version text, approval jsonb, created_at timestamptz, decided_at timestamptz,
           expires_at timestamptz, valid_until timestamptz, grant_id uuid)
         ON CONFLICT (request_id) DO NOTHING
         RETURNING request_id`,
        [JSON.stringify(items.map((i) => toRow(i.row)))],
      );
      const ids = new Set(inserted.map((r) => r.request_id));
      // Two submissions of one id in the same batch: only the first counts.
      const seen = new Set<string>();
      const results = all.map((i): WriteResult => {
        if (ended(i)) return { inserted: false, grantEnded: true };
        const first = ids.has(i.row.requestId) && !seen.has(i.row.requestId);
        seen.add(i.row.requestId);
        return { inserted: first, grantEnded: false };
      });
      const events = all.filter((_, n) => results[n].inserted).map((i) => i.event as Required<AuditEvent>);
      if (events.length > 0) await writeChained(manager, events, this.clock.now());
      return results;
    });
  }
}

function toRow(r: DecisionRequestEntity): Record<string, unknown> {
  return {
    request_id: r.requestId,
    device_id: r.deviceId,
    device_groups: r.deviceGroups,
    body_hash: r.bodyHash,
    action: r.action,
    remote_user: r.remoteUser,
    target: r.target,
    context: r.context,
    status: r.status,
    reason: r.reason,
    rule_ids: r.ruleIds,
    policy_version: r.policyVersion,
    approval: r.approval,
    created_at: r.createdAt.toISOString(),
    decided_at: r.decidedAt?.toISOString() ?? null,
    expires_at: r.expiresAt?.toISOString() ?? null,
    valid_until: r.validUntil?.toISOString() ?? null,
    grant_id: r.grantId,
  };
}
