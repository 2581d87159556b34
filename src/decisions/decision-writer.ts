import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AuditEvent } from '../audit/audit-chain.js';
import { normalizeEvent } from '../audit/audit-chain.js';
import { AuditUnavailableError, contentLines, queuedStatement } from '../audit/audit-writer.js';
import type { Clock } from '../common/clock.js';
import { GroupCommitter, type Admission } from '../common/group-commit.js';
import type { GatehouseMetrics } from '../metrics/gatehouse-metrics.js';
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
 * Writes a decision and its audit record in one transaction, many requests per commit, and up
 * to PARALLEL_COMMITS commits at once: the records go into the audit inbox (no chain lock), and
 * the sealer chains them shortly after (`onCommitted` wakes it). While it is behind, commits wait
 * for it (`admission`).
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
    deadlineMs: number,
    private readonly metrics?: GatehouseMetrics,
    private readonly onCommitted?: () => void,
    admission?: Admission,
  ) {
    this.committer = new GroupCommitter(
      (items) => this.commit(items),
      (error) => {
        this.logger.error(`Decision could not be recorded: ${error.message}`);
        return new AuditUnavailableError(`The decision could not be recorded: ${error.message}`);
      },
      {
        deadlineMs,
        parallel: PARALLEL_COMMITS,
        // Back-pressure (AuditSealer.admission): while the sealer is behind, commits wait for
        // it, up to each decision's deadline (then 503), so the trail never falls behind its bound.
        admission,
        onAdmissionWait: () => this.metrics?.sealerWaits.inc(),
        // Those callers were answered 503 and told not to act. Their records are durable and
        // audited like any other: a retry of the same request id reads the stored answer.
        onLateCommit: (late) =>
          this.logger.warn(`${late} decision(s) were recorded after their ${deadlineMs} ms deadline (answered 503)`),
      },
    );
  }

  write(item: DecisionWrite): Promise<WriteResult> {
    return this.committer.submit({ row: item.row, event: normalizeEvent(item.event) });
  }

  close(): Promise<void> {
    return this.committer.close();
  }

  /**
   * One statement, committed on its own: the database function record_decisions (migrations
   * OneTripCommits, DecisionsAuditThroughAudit) checks that a grant behind an allowed repeat
   * is still live, and keeps it so until this commits (FOR SHARE against the FOR UPDATE of
   * ending it), so no allow outlives its grant, and inserts the rows; the audit module's
   * queuedStatement queues the audit records of those inserted, in batch order, in the inbox.
   */
  private async commit(all: DecisionWrite[]): Promise<WriteResult[]> {
    const started = performance.now();
    try {
      const results = await this.commitBatch(all);
      this.onCommitted?.();
      this.metrics?.committed(all.length, (performance.now() - started) / 1000);
      return results;
    } catch (error) {
      this.metrics?.auditWriteFailures.inc();
      throw error;
    }
  }

  private async commitBatch(all: DecisionWrite[]): Promise<WriteResult[]> {
    // Two submissions of one id (lower case: decideSchema) in the same batch: only the first
    // is written; the second reads as already stored.
    const firsts = new Map<string, DecisionWrite>();
    for (const item of all) if (!firsts.has(item.row.requestId)) firsts.set(item.row.requestId, item);
    const items = [...firsts.values()];
    const now = this.clock.now();
    const rows = await this.dataSource.query<{ out_request_id: string | null; out_result: string | null }[]>(
      RECORD_AND_AUDIT,
      [
        JSON.stringify(items.map((i) => toRow(i.row))),
        contentLines(items.map((i) => i.event as Required<AuditEvent>)),
        now,
        now.toISOString(),
        items.map((i) => i.row.requestId).join('\n'),
      ],
    );
    const outcome = new Map(rows.map((r) => [r.out_request_id, r.out_result]));
    return all.map((item): WriteResult => {
      const result = outcome.get(item.row.requestId);
      // A later copy reads as already stored, unless nothing was stored: the first copy's
      // grant had ended, so every copy decides again without it.
      if (firsts.get(item.row.requestId) !== item) return { inserted: false, grantEnded: result === 'grant_ended' };
      return { inserted: result === 'inserted', grantEnded: result === 'grant_ended' };
    });
  }
}

/**
 * Commits in flight at once. They no longer queue on the chain's lock; a few overlap the
 * round trips and fsyncs (bench:decisions; the pool has DATABASE_POOL_SIZE connections, and
 * the rest stay for the requests' own reads).
 */
export const PARALLEL_COMMITS = 4;

/**
 * $1 the rows (JSON), $2 their audit contents (a line each), $3 now, $4 now as ISO text (the
 * records' recorded-at), $5 the rows' request ids (a line each, same order as $2): the
 * records appended are those of the rows inserted, in batch order.
 */
const RECORD_AND_AUDIT = queuedStatement(
  'SELECT out_request_id, out_result FROM record_decisions($1::jsonb, $3)',
  `ARRAY(SELECT u.content FROM unnest(string_to_array($2, E'\\n'), string_to_array($5, E'\\n')::uuid[])
     WITH ORDINALITY AS u(content, request_id, n)
     WHERE u.request_id IN (SELECT out_request_id FROM written WHERE out_result = 'inserted') ORDER BY u.n)`,
  '$4',
);

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
    obligations: r.obligations,
  };
}
