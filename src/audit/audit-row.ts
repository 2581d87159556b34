import type { ChainedRecord } from './audit-chain.js';

/** A raw audit_records row as the pg driver returns it. */
export interface AuditRow {
  seq: string;
  recorded_at: Date;
  event_type: string;
  actor_type: string;
  actor_id: string | null;
  device_id: string | null;
  action: string | null;
  remote_user: string | null;
  outcome: string | null;
  rule_ids: string[];
  policy_version: string | null;
  approvers: string[];
  source_address: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export function fromRow(row: AuditRow): ChainedRecord {
  return {
    seq: Number(row.seq),
    recordedAt: row.recorded_at,
    eventType: row.event_type,
    actorType: row.actor_type as ChainedRecord['actorType'],
    actorId: row.actor_id,
    deviceId: row.device_id,
    action: row.action,
    remoteUser: row.remote_user,
    outcome: row.outcome,
    ruleIds: row.rule_ids,
    policyVersion: row.policy_version,
    approvers: row.approvers,
    sourceAddress: row.source_address,
    requestId: row.request_id,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
