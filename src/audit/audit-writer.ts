import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../common/clock.js';
import { GroupCommitter } from '../common/group-commit.js';
import { chain, GENESIS_HASH, normalizeEvent, type AuditEvent, type ChainedRecord } from './audit-chain.js';

// INVARIANT: every process appending to the chain takes this transaction-scoped
// advisory lock before reading the head, so the chain never forks.
export const AUDIT_CHAIN_LOCK_KEY = 0x6175_6469; // "audi"

export class AuditUnavailableError extends Error {}

/**
 * Durable audit appends with group commit (see GroupCommitter): a caller's promise
 * resolves only after its record is committed.
 */
export class AuditWriter {
  private readonly logger = new Logger('AuditWriter');
  private readonly committer: GroupCommitter<Required<AuditEvent>, ChainedRecord>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    this.committer = new GroupCommitter(
      (events) => this.dataSource.transaction((manager) => writeChained(manager, events, this.clock.now())),
      (error) => {
        this.logger.error(`Audit append failed: ${error.message}`);
        return new AuditUnavailableError(`The audit record could not be written: ${error.message}`);
      },
    );
  }

  append(event: AuditEvent): Promise<ChainedRecord> {
    return this.committer.submit(normalizeEvent(event));
  }

  /** Waits for everything queued so far, then refuses new appends. */
  close(): Promise<void> {
    return this.committer.close();
  }
}

/**
 * Appends events to the chain inside the caller's transaction. The chain lock is held
 * until that transaction ends, so keep such transactions short.
 */
export async function writeChained(
  manager: EntityManager,
  events: Required<AuditEvent>[],
  recordedAt: Date,
): Promise<ChainedRecord[]> {
  await manager.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK_KEY]);
  const head = await manager.query<{ seq: string; hash: string }[]>(
    'SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1',
  );
  const headSeq = head[0] ? Number(head[0].seq) : 0;
  const headHash = head[0]?.hash ?? GENESIS_HASH;
  const records = chain(events, headSeq, headHash, recordedAt);
  await manager.query(
    `INSERT INTO audit_records (seq, recorded_at, event_type, actor_type, actor_id, device_id, action, remote_user,
       outcome, rule_ids, policy_version, approvers, source_address, request_id, details, prev_hash, hash)
     SELECT seq, recorded_at, event_type, actor_type, actor_id, device_id, action, remote_user,
       outcome, rule_ids, policy_version, approvers, source_address, request_id, details, prev_hash, hash
     FROM jsonb_to_recordset($1::jsonb) AS r(seq bigint, recorded_at timestamptz, event_type text, actor_type text,
       actor_id text, device_id text, action text, remote_user text, outcome text, rule_ids text[],
       policy_version text, approvers text[], source_address text, request_id text, details jsonb,
       prev_hash text, hash text)`,
    [JSON.stringify(records.map(toRow))],
  );
  return records;
}

function toRow(r: ChainedRecord): Record<string, unknown> {
  return {
    seq: r.seq,
    recorded_at: r.recordedAt.toISOString(),
    event_type: r.eventType,
    actor_type: r.actorType,
    actor_id: r.actorId,
    device_id: r.deviceId,
    action: r.action,
    remote_user: r.remoteUser,
    outcome: r.outcome,
    rule_ids: r.ruleIds,
    policy_version: r.policyVersion,
    approvers: r.approvers,
    source_address: r.sourceAddress,
    request_id: r.requestId,
    details: r.details,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}
