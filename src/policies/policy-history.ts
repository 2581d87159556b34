import { Injectable } from '@nestjs/common';
import type { ChainedRecord } from '../audit/audit-chain.js';
import { AuditReads } from '../audit/audit-reads.js';

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
  constructor(private readonly auditReads: AuditReads) {}

  async list(
    before: number | undefined,
    limit: number,
  ): Promise<{ records: ChainedRecord[]; nextBefore: number | null }> {
    const rows = await this.auditReads.newestOfEvents(POLICY_HISTORY_EVENTS, before, limit + 1);
    const records = rows.slice(0, limit);
    return { records, nextBefore: rows.length > limit ? records[records.length - 1].seq : null };
  }
}
