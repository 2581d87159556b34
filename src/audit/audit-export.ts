import { Injectable } from '@nestjs/common';
import { StringDecoder } from 'node:string_decoder';
import type { DataSource } from 'typeorm';
import { Database } from '../database/database.js';
import { auditConditions, whereClause } from './audit-filters.js';
import { fromRow, type AuditRow } from './audit-row.js';
import type { AuditExportQuery } from './audit-search.dto.js';
import { csvHeader, csvLine } from './audit-csv.js';
import { copyOut, timestampLiteral, type CopyBytes } from './export-copy.js';
import { csvFromColumns, JSON_LINE_COLUMNS, jsonLinesFromColumns } from './export-formats.js';
import { AuditSealer } from './sealer/audit-sealer.js';

/**
 * Rows per query. Memory holds one batch at a time (a few MB), whatever the size of the
 * export; keyset batches rather than a server-side cursor because they work the same on
 * PostgreSQL and on the embedded PGlite, and hold no transaction open while a slow client reads.
 */
export const EXPORT_BATCH = 5000;

/**
 * Rows per COPY on PostgreSQL (~6 MB of JSON Lines): read whole into memory, then written
 * while the database already makes the next one (so at most two are held). 10,000 rather
 * than 20,000: with 20,000 a 1M-record download over HTTP grew the resident set by 89 MB of
 * the 100 allowed; a statement and a pooled connection per 10,000 records cost little.
 */
export const COPY_ROWS = 10_000;

/**
 * COPYs read ahead of the one being written, each on its own connection. One: the database
 * sends the columns (~2.5 µs of CPU a record) faster than Node writes them (~3 µs), so a
 * second would only hold another connection and more memory (measured with 20,000-record COPYs: no faster).
 */
const COPIES_AHEAD = 1;

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
  private readonly dataSource: DataSource;

  constructor(
    private readonly database: Database,
    private readonly sealer: AuditSealer,
  ) {
    this.dataSource = database.dataSource;
  }

  /**
   * The export's bytes, piece by piece, oldest record first (what the HTTP route sends). On
   * PostgreSQL by COPY of the columns, written into the format's bytes here
   * (export-formats.ts; docs/performance.md has the figures); on the embedded PGlite (one
   * session, whose socket server is not known to carry COPY) by batches.
   */
  bytes(q: AuditExportQuery): AsyncGenerator<string | Buffer> {
    return this.database.kind === 'embedded' ? this.batchedText(q) : this.copiedBytes(q);
  }

  /** The export as text, for callers that want strings (a character split between pieces is kept whole). */
  async *text(q: AuditExportQuery): AsyncGenerator<string> {
    const decoder = new StringDecoder('utf8');
    for await (const piece of this.bytes(q)) {
      const text = typeof piece === 'string' ? piece : decoder.write(piece);
      if (text) yield text;
    }
    const rest = decoder.end();
    if (rest) yield rest;
  }

  private async *copiedBytes(q: AuditExportQuery): AsyncGenerator<string | Buffer> {
    if (q.format === 'csv') {
      yield csvHeader();
      yield* this.copies(q, csvFromColumns);
    } else {
      yield* this.copies(q, jsonLinesFromColumns);
    }
  }

  /**
   * COPY of the export's columns, COPY_ROWS records at a time (in seq stretches, as batches()
   * explains), each read whole on its own pooled connection while the previous one is written
   * out: the database works while the client reads, and a slow client holds no connection nor
   * snapshot, only the COPY read ahead (memory). `bytes` makes, per COPY, what turns its
   * output into the export's bytes.
   */
  private async *copies(q: AuditExportQuery, bytes: () => CopyBytes): AsyncGenerator<Buffer> {
    const bounds = await this.bounds(q);
    if (!bounds) return;
    // The filter's times written into the statement (COPY takes no parameters): ISO text only.
    const range = [
      ...(q.from ? [`recorded_at >= ${timestampLiteral(q.from)}`] : []),
      ...(q.to ? [`recorded_at < ${timestampLiteral(q.to)}`] : []),
    ];
    const copy = (low: number) => {
      const high = Math.min(low + COPY_ROWS - 1, bounds.last);
      const where = [...range, `seq BETWEEN ${low} AND ${high}`].join(' AND ');
      // audit_records.seq: a column of the SELECT may be named seq too (seq::text), and sorts as text.
      const done = copyOut(
        this.dataSource,
        `COPY (SELECT ${JSON_LINE_COLUMNS} FROM audit_records WHERE ${where} ORDER BY audit_records.seq) TO STDOUT (FORMAT binary)`,
        bytes(),
      );
      // Awaited in turn below; until then (or if the client goes away first) not unhandled.
      done.catch(() => undefined);
      return done;
    };
    const ahead: Promise<Buffer[]>[] = [];
    let low = bounds.first;
    const readAhead = () => {
      for (; ahead.length < COPIES_AHEAD && low <= bounds.last; low += COPY_ROWS) ahead.push(copy(low));
    };
    readAhead();
    while (ahead.length > 0) {
      const pieces = await ahead.shift()!;
      readAhead();
      yield* pieces;
    }
  }

  /** The first and last seq in [from, to) as the export begins, after the read barrier. */
  private async bounds(q: AuditExportQuery): Promise<{ first: number; last: number } | undefined> {
    await this.sealer.sealPending();
    const range = auditConditions({ from: q.from, to: q.to });
    const [bounds] = await this.dataSource.query<{ first: string | null; last: string | null }[]>(
      `SELECT min(seq) AS first, max(seq) AS last FROM audit_records ${whereClause(range)}`,
      range.params,
    );
    return bounds?.first && bounds.last ? { first: Number(bounds.first), last: Number(bounds.last) } : undefined;
  }

  /**
   * The export's text by batches of rows (EXPORT_BATCH): the embedded database's way, and
   * the reference the COPY's bytes are tested against.
   */
  async *batchedText(q: AuditExportQuery): AsyncGenerator<string> {
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
    const bounds = await this.bounds(q);
    if (!bounds) return;
    const last = bounds.last;
    for (let low = bounds.first; low <= last; low += EXPORT_BATCH) {
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
