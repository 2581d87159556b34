import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ChainedRecord } from './audit-chain.js';
import { fromRow, type AuditRow } from './audit-row.js';
import { AuditSealer } from './sealer/audit-sealer.js';

/**
 * The narrow reads of the trail that other modules' jobs and pages need (reports, policy
 * history, offline uploads): audit owns audit_records, so they ask here rather than write SQL
 * on it. Methods that take an EntityManager read in the caller's transaction.
 */
@Injectable()
export class AuditReads {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: AuditSealer,
  ) {}

  /**
   * Records of the given event types in (afterSeq, upToSeq] that name a request, oldest first,
   * at most `limit`: a job that follows the trail reads it in steps.
   */
  async requestEventsBetween(
    m: EntityManager,
    span: { afterSeq: number; upToSeq: number; eventTypes: string[]; limit: number },
  ): Promise<{ seq: number; eventType: string; requestId: string }[]> {
    const rows = await m.query<{ seq: string; event_type: string; request_id: string }[]>(
      `SELECT seq, event_type, request_id FROM audit_records
        WHERE seq > $1 AND seq <= $2 AND event_type = ANY($3) AND request_id IS NOT NULL
        ORDER BY seq LIMIT $4`,
      [span.afterSeq, span.upToSeq, span.eventTypes, span.limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), eventType: r.event_type, requestId: r.request_id }));
  }

  /** Which of these requests already have a record of this event type (an upload sent twice records once). */
  async requestsWithEvent(m: EntityManager, requestIds: string[], eventType: string): Promise<Set<string>> {
    const rows = await m.query<{ request_id: string }[]>(
      'SELECT request_id FROM audit_records WHERE request_id = ANY($1) AND event_type = $2',
      [requestIds, eventType],
    );
    return new Set(rows.map((r) => r.request_id));
  }

  /** The records of these devices recorded in [from, to), oldest first (a device group's digest). */
  async ofDevicesBetween(deviceIds: string[], from: Date, to: Date): Promise<ChainedRecord[]> {
    await this.sealer.sealPending(); // read barrier: decisions already answered are in it
    const rows = await this.dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records WHERE device_id = ANY($1) AND recorded_at >= $2 AND recorded_at < $3 ORDER BY seq`,
      [deviceIds, from, to],
    );
    return rows.map(fromRow);
  }

  /** For each of these requests with a record of one of the event types, when the latest was recorded. */
  async latestOfEventsByRequest(requestIds: string[], eventTypes: string[]): Promise<Map<string, Date>> {
    if (requestIds.length === 0) return new Map();
    await this.sealer.sealPending();
    const rows = await this.dataSource.query<{ request_id: string; at: Date }[]>(
      `SELECT request_id, max(recorded_at) AS at FROM audit_records
        WHERE request_id = ANY($1) AND event_type = ANY($2) GROUP BY request_id`,
      [requestIds, eventTypes],
    );
    return new Map(rows.map((r) => [r.request_id, r.at]));
  }

  /**
   * Records of the given event types, newest first, before `before` (a seq) when given; one
   * more than `limit` tells the caller another page follows. Keyset on seq, over the
   * (event_type, seq) index: a page costs the same however long the trail.
   */
  async newestOfEvents(eventTypes: string[], before: number | undefined, limit: number): Promise<ChainedRecord[]> {
    await this.sealer.sealPending();
    const rows = await this.dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records WHERE event_type = ANY($1) AND ($2::bigint IS NULL OR seq < $2)
        ORDER BY seq DESC LIMIT $3`,
      [eventTypes, before ?? null, limit],
    );
    return rows.map(fromRow);
  }
}
