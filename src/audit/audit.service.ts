import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { normalizeEvent, type AuditEvent, type ChainedRecord } from './audit-chain.js';
import { AuditWriter, writeChained } from './audit-writer.js';

/** The audit trail: append (durably, hash-chained) and read (search: AuditSearch; verification: AuditIntegrityService). Nothing here updates or deletes. */
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

  /**
   * The head of the chain, to be kept elsewhere as a checkpoint (detects truncation of the
   * tail); read in the caller's transaction when given one.
   */
  async head(db: DataSource | EntityManager = this.dataSource): Promise<{ seq: number; hash: string } | null> {
    const rows = await db.query<
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
