import { readFileSync } from 'node:fs';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { Database } from '../../database/database.js';
import { AuditService } from '../audit.service.js';
import { ForwardCursorStore } from './forward-cursor.store.js';
import { ForwardLease } from './forward-lease.js';
import { ReceiverForwarder } from './receiver-forwarder.js';
import { parseReceiverUrls, type Receiver } from './receiver-url.js';
import { TransportThread } from './transport-thread.js';

export interface ReceiverStatus {
  url: string;
  lastForwardedSeq: number;
  lastCheckpointSeq: number;
  lag: number;
  lagSeconds: number;
  lastForwardedAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  failingSince: string | null;
}

/** SIEM forwarding (AUDIT_FORWARD_URLS): one forwarder per receiver, and their status for the API. */
@Injectable()
export class ForwardingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly receivers: Receiver[];
  private readonly forwarders: ReceiverForwarder[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly database: Database,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {
    this.receivers = parseReceiverUrls(config.AUDIT_FORWARD_URLS);
  }

  onApplicationBootstrap(): void {
    const ca = this.config.AUDIT_FORWARD_CA_FILE ? readFileSync(this.config.AUDIT_FORWARD_CA_FILE) : undefined;
    for (const receiver of this.receivers) {
      const forwarder = new ReceiverForwarder(
        receiver.name,
        new TransportThread(
          { receiver, ca, hecToken: this.config.AUDIT_FORWARD_HEC_TOKEN },
          this.config.AUDIT_FORWARD_NICE,
        ),
        new ForwardLease(this.dataSource, this.database.kind === 'embedded', receiver.name),
        this.audit,
        this.clock,
        this.config.AUDIT_FORWARD_ALERT_MINUTES * 60_000,
      );
      this.forwarders.push(forwarder);
      forwarder.start();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.forwarders.map((f) => f.stop()));
  }

  get configured(): boolean {
    return this.receivers.length > 0;
  }

  /** Each receiver as the database has it (so every replica answers alike), with its lag behind the chain's head. */
  async status(): Promise<ReceiverStatus[]> {
    if (this.receivers.length === 0) return [];
    const names = this.receivers.map((r) => r.name);
    const cursors = await new ForwardCursorStore(() => this.dataSource.manager).loadAll(names);
    const [head] = await this.dataSource.query<{ seq: string | null }[]>('SELECT max(seq) AS seq FROM audit_records');
    const headSeq = Number(head?.seq ?? 0);
    const now = this.clock.now().getTime();
    const out: ReceiverStatus[] = [];
    for (const name of names) {
      const c = cursors.get(name)!;
      // The age of the oldest record not yet forwarded: how far behind the SIEM is in time.
      const [oldest] = await this.dataSource.query<{ recorded_at: Date }[]>(
        'SELECT recorded_at FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT 1',
        [c.lastSeq],
      );
      out.push({
        url: name,
        lastForwardedSeq: c.lastSeq,
        lastCheckpointSeq: c.lastCheckpointSeq,
        lag: Math.max(0, headSeq - c.lastSeq),
        lagSeconds: oldest ? Math.max(0, Math.round((now - oldest.recorded_at.getTime()) / 1000)) : 0,
        lastForwardedAt: c.lastForwardedAt?.toISOString() ?? null,
        lastError: c.lastError,
        lastErrorAt: c.lastErrorAt?.toISOString() ?? null,
        failingSince: c.failingSince?.toISOString() ?? null,
      });
    }
    return out;
  }
}
