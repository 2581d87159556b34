import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ChainedRecord } from '../audit/audit-chain.js';
import { fromRow, type AuditRow } from '../audit/audit-row.js';

/** The audit events that tell a policy set's history: each new version, and each console edit. */
export const POLICY_HISTORY_EVENTS = [
  'policy.changed',
  'policy.console_rule_created',
  'policy.console_rule_updated',
  'policy.console_rule_deleted',
];

/** Who changed the rules, what, and when: read from the audit trail (the one record of it), newest first. */
@Injectable()
export class PolicyHistory {
  constructor(private readonly dataSource: DataSource) {}

  async list(
    before: number | undefined,
    limit: number,
  ): Promise<{ records: ChainedRecord[]; nextBefore: number | null }> {
    // Keyset on seq, over the (event_type, seq) index: a page costs the same however long the trail.
    const rows = await this.dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records WHERE event_type = ANY($1) AND ($2::bigint IS NULL OR seq < $2)
        ORDER BY seq DESC LIMIT $3`,
      [POLICY_HISTORY_EVENTS, before ?? null, limit + 1],
    );
    const records = rows.slice(0, limit).map(fromRow);
    return { records, nextBefore: rows.length > limit ? records[records.length - 1].seq : null };
  }
}
