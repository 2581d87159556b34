import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ChainedRecord } from './audit-chain.js';
import { auditConditions, whereClause } from './audit-filters.js';
import { fromRow, type AuditRow } from './audit-row.js';
import type { AuditExportQuery } from './audit-search.dto.js';
import { csvHeader, csvLine } from './audit-csv.js';

/**
 * Rows per query. Memory holds one batch at a time (a few MB), whatever the size of the
 * export; keyset batches rather than a server-side cursor because they work the same on
 * PostgreSQL and on the embedded PGlite, and hold no transaction open while a slow client reads.
 */
export const EXPORT_BATCH = 5000;

/** One record as a JSON line: every field the hash covers, and the chain fields, so a file verifies offline. */
export function jsonLine(r: ChainedRecord): string {
  return (
    JSON.stringify({
      seq: r.seq,
      recordedAt: r.recordedAt.toISOString(),
      eventType: r.eventType,
      actorType: r.actorType,
      actorId: r.actorId,
      deviceId: r.deviceId,
      action: r.action,
      remoteUser: r.remoteUser,
      outcome: r.outcome,
      ruleIds: r.ruleIds,
      policyVersion: r.policyVersion,
      approvers: r.approvers,
      sourceAddress: r.sourceAddress,
      requestId: r.requestId,
      details: r.details,
      prevHash: r.prevHash,
      hash: r.hash,
    }) + '\n'
  );
}

@Injectable()
export class AuditExport {
  constructor(private readonly dataSource: DataSource) {}

  /** The export's text, chunk by chunk (one chunk per batch), oldest record first. */
  async *text(q: AuditExportQuery): AsyncGenerator<string> {
    const line = q.format === 'csv' ? csvLine : jsonLine;
    if (q.format === 'csv') yield csvHeader();
    for await (const batch of this.batches(q)) {
      let chunk = '';
      for (const record of batch) chunk += line(record);
      yield chunk;
    }
  }

  /**
   * Records in seq order, a batch at a time, up to the head as it was when the export began:
   * records appended meanwhile are left for the next export, so an export is a fixed stretch
   * of the chain and always ends.
   */
  async *batches(q: AuditExportQuery): AsyncGenerator<ChainedRecord[]> {
    const [head] = await this.dataSource.query<{ seq: string | null }[]>('SELECT max(seq) AS seq FROM audit_records');
    const last = Number(head?.seq ?? 0);
    let after = 0;
    while (after < last) {
      const c = auditConditions({ from: q.from, to: q.to });
      c.params.push(after, last);
      c.where.push(`seq > $${c.params.length - 1}`, `seq <= $${c.params.length}`);
      const rows = await this.dataSource.query<AuditRow[]>(
        `SELECT * FROM audit_records ${whereClause(c)} ORDER BY seq LIMIT ${EXPORT_BATCH}`,
        c.params,
      );
      if (rows.length === 0) return;
      yield rows.map(fromRow);
      after = Number(rows[rows.length - 1].seq);
    }
  }
}
