import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ChainedRecord } from './audit-chain.js';
import { fromRow, type AuditRow } from './audit-row.js';

/** What an auditor searches the trail by; every field optional. */
export interface TrailQuery {
  from?: Date;
  to?: Date;
  deviceId?: string;
  remoteUser?: string;
  actorId?: string;
  eventType?: string;
  outcome?: string;
  requestId?: string;
  /** Keyset pagination: records with seq below this (newest first). */
  before?: number;
  limit: number;
}

/**
 * The audit trail for the console's auditor pages: every filter the issue names, newest
 * first, a seq cursor. (The audit-search API being built on main covers the same; the
 * console should move to it once it lands.)
 */
@Injectable()
export class AuditTrailSearch {
  constructor(private readonly dataSource: DataSource) {}

  async search(q: TrailQuery): Promise<{ records: ChainedRecord[]; nextBefore: number | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (column: string, op: string, value: unknown) => {
      if (value === undefined) return;
      params.push(value);
      where.push(`${column} ${op} $${params.length}`);
    };
    add('recorded_at', '>=', q.from);
    add('recorded_at', '<', q.to);
    add('device_id', '=', q.deviceId);
    add('remote_user', '=', q.remoteUser);
    add('actor_id', '=', q.actorId);
    add('event_type', '=', q.eventType);
    add('outcome', '=', q.outcome);
    add('request_id', '=', q.requestId);
    add('seq', '<', q.before);
    params.push(q.limit + 1);
    const rows = await this.dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    const records = rows.slice(0, q.limit).map(fromRow);
    return { records, nextBefore: rows.length > q.limit ? records[records.length - 1].seq : null };
  }
}
