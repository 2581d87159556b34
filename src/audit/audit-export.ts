import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { auditConditions, whereClause } from './audit-filters.js';
import { fromRow, type AuditRow } from './audit-row.js';
import type { AuditExportQuery } from './audit-search.dto.js';
import { csvHeader, csvLine } from './audit-csv.js';
import { AuditSealer } from './sealer/audit-sealer.js';

/**
 * Rows per query. Memory holds one batch at a time (a few MB), whatever the size of the
 * export; keyset batches rather than a server-side cursor because they work the same on
 * PostgreSQL and on the embedded PGlite, and hold no transaction open while a slow client reads.
 */
export const EXPORT_BATCH = 5000;

/**
 * One record as a JSON object, made by the database: every field the hash covers and the chain
 * fields, so a file verifies offline. PostgreSQL writes the text (the application only joins a
 * batch's lines): parsing rows into objects and back to JSON in Node held an export to
 * ~10,000 records/s. recordedAt in exactly the form that was hashed (toISOString: UTC, ms).
 */
const JSON_LINE = `json_build_object('seq', seq,
  'recordedAt', to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'eventType', event_type, 'actorType', actor_type, 'actorId', actor_id, 'deviceId', device_id, 'action', action,
  'remoteUser', remote_user, 'outcome', outcome, 'ruleIds', rule_ids, 'policyVersion', policy_version,
  'approvers', approvers, 'sourceAddress', source_address, 'requestId', request_id, 'details', details,
  'prevHash', prev_hash, 'hash', hash)::text`;

/**
 * Records first..last as jsonl, the export's lines, a batch at a time: what audit:prune archives
 * of a segment before removing it (on the owner's connection, so it reads what it then deletes).
 */
export async function* seqRangeLines(dataSource: DataSource, first: number, last: number): AsyncGenerator<string> {
  for (let low = first; low <= last; low += EXPORT_BATCH) {
    const [batch] = await dataSource.query<{ lines: string | null }[]>(
      `SELECT string_agg(${JSON_LINE}, E'\\n' ORDER BY seq) AS lines FROM audit_records WHERE seq BETWEEN $1 AND $2`,
      [low, Math.min(low + EXPORT_BATCH - 1, last)],
    );
    if (batch?.lines) yield batch.lines + '\n';
  }
}

@Injectable()
export class AuditExport {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: AuditSealer,
  ) {}

  /** The export's text, chunk by chunk (one chunk per batch), oldest record first. */
  async *text(q: AuditExportQuery): AsyncGenerator<string> {
    if (q.format === 'csv') {
      yield csvHeader();
      for await (const rows of this.batches(q, '*')) yield rows.map((row) => csvLine(fromRow(row))).join('');
    } else {
      for await (const [batch] of this.batches<{ lines: string }>(
        q,
        `string_agg(${JSON_LINE}, E'\\n' ORDER BY seq) AS lines`,
        true,
      )) {
        yield batch.lines + '\n';
      }
    }
  }

  /**
   * Records in seq order, a stretch of seq at a time: from the first record in [from, to) to
   * the last one there as the export begins (records appended meanwhile are left for the next
   * export, so an export always ends). Stretches of seq rather than LIMIT after a seq: each
   * query is then a short primary-key range, however the planner guesses the rows (with
   * LIMIT it sorted the whole rest of the table, 1.7 s a batch). `select` is what each batch
   * returns: its rows, or (`whole`) one row made from all of them.
   */
  private async *batches<T = AuditRow>(q: AuditExportQuery, select: string, whole = false): AsyncGenerator<T[]> {
    await this.sealer.sealPending();
    const range = auditConditions({ from: q.from, to: q.to });
    const [bounds] = await this.dataSource.query<{ first: string | null; last: string | null }[]>(
      `SELECT min(seq) AS first, max(seq) AS last FROM audit_records ${whereClause(range)}`,
      range.params,
    );
    if (!bounds?.first || !bounds.last) return;
    const last = Number(bounds.last);
    for (let low = Number(bounds.first); low <= last; low += EXPORT_BATCH) {
      const c = auditConditions({ from: q.from, to: q.to });
      c.params.push(low, Math.min(low + EXPORT_BATCH - 1, last));
      c.where.push(`seq BETWEEN $${c.params.length - 1} AND $${c.params.length}`);
      const batch = `SELECT * FROM audit_records ${whereClause(c)}`;
      const rows = await this.dataSource.query<(T & { last_seq: string | null })[]>(
        whole
          ? `SELECT max(seq) AS last_seq, ${select} FROM (${batch}) AS batch`
          : `SELECT ${select} FROM (${batch}) AS batch ORDER BY seq`,
        c.params,
      );
      if (rows.length > 0 && (!whole || rows[0].last_seq !== null)) yield rows;
    }
  }
}
