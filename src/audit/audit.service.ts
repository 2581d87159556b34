import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { normalizeEvent, type AuditEvent, type ChainedRecord } from './audit-chain.js';
import { fromRow, type AuditRow } from './audit-row.js';
import { AuditWriter, writeChained } from './audit-writer.js';

export interface AuditQuery {
  eventType?: string;
  actorId?: string;
  deviceId?: string;
  requestId?: string;
  from?: Date;
  to?: Date;
  /** Keyset pagination: records with seq below this (newest first). */
  before?: number;
  limit: number;
}

/** The audit trail: append (durably, hash-chained) and read (verification: AuditIntegrityService). Nothing here updates or deletes. */
@Injectable()
export class AuditService implements OnApplicationShutdown {
  private readonly writer: AuditWriter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    this.writer = new AuditWriter(dataSource, clock);
  }

  /** Resolves once the record is committed (group commit); rejects with AuditUnavailableError otherwise. */
  append(event: AuditEvent): Promise<ChainedRecord> {
    return this.writer.append(event);
  }

  /**
   * Appends inside the caller's transaction: the record commits with the change it
   * describes, or neither does. (On the embedded database this is also the only safe
   * way: a second connection would wait on the open transaction.)
   */
  async appendIn(manager: EntityManager, ...events: AuditEvent[]): Promise<ChainedRecord[]> {
    return writeChained(manager, events.map(normalizeEvent), this.clock.now());
  }

  async list(query: AuditQuery): Promise<{ records: ChainedRecord[]; nextBefore: number | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.eventType) add('event_type = ?', query.eventType);
    if (query.actorId) add('actor_id = ?', query.actorId);
    if (query.deviceId) add('device_id = ?', query.deviceId);
    if (query.requestId) add('request_id = ?', query.requestId);
    if (query.from) add('recorded_at >= ?', query.from);
    if (query.to) add('recorded_at < ?', query.to);
    if (query.before !== undefined) add('seq < ?', query.before);
    const sql = `SELECT * FROM audit_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq DESC LIMIT ${query.limit + 1}`;
    const rows = (await this.dataSource.query<AuditRow[]>(sql, params)).map(fromRow);
    const more = rows.length > query.limit;
    const records = rows.slice(0, query.limit);
    return { records, nextBefore: more ? records[records.length - 1].seq : null };
  }

  /** The head of the chain, to be kept elsewhere as a checkpoint (detects truncation of the tail). */
  async head(): Promise<{ seq: number; hash: string } | null> {
    const rows = await this.dataSource.query<
      {
        seq: string;
        hash: string;
      }[]
    >('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
    return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer.close();
  }
}
