import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import type { Admission } from '../common/group-commit.js';
import { normalizeEvent, type AuditEvent, type ChainedRecord } from './audit-chain.js';
import { AuditWriter, writeChained } from './audit-writer.js';
import { AuditSealer, type SealLag } from './sealer/audit-sealer.js';

/**
 * The audit trail: append (durably, hash-chained) and read (search: AuditSearch; verification:
 * AuditIntegrityService). Nothing here updates or deletes. Decisions' records arrive through
 * the inbox (queuedStatement) and the sealer chains them shortly after; every other record is
 * chained as it is appended.
 */
@Injectable()
export class AuditService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly writer: AuditWriter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly sealer: AuditSealer,
  ) {
    this.writer = new AuditWriter(dataSource, clock);
  }

  onApplicationBootstrap(): void {
    this.sealer.start();
  }

  /** A seal round soon: a decision batch has just committed its records into the inbox. */
  sealSoon(): void {
    this.sealer.soon();
  }

  /** Back-pressure for decision commits: closed while the sealer is behind (AuditSealer.admission). */
  get sealAdmission(): Admission {
    return this.sealer.admission;
  }

  /** Read barrier: every record of a decision already answered is in the chain when this resolves (AuditSealer). */
  sealPending(): Promise<void> {
    return this.sealer.sealPending();
  }

  /** Records committed but not yet chained, and the oldest one's age. */
  sealLag(): Promise<SealLag> {
    return this.sealer.lag();
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
    await this.sealer.stop();
  }
}
