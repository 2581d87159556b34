import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { readStatus } from './directory-status.js';
import { DirectorySyncService, SYNC_ACTOR } from './directory-sync.service.js';
import type { SyncKind } from './directory-sync.js';
import { DataSource } from 'typeorm';

/**
 * The server's sync schedule (not the CLI's): an incremental sync every LDAP_INCREMENTAL_SYNC_MINUTES
 * and a full one when the last full sync is older than LDAP_FULL_SYNC_MINUTES. Every replica ticks;
 * the advisory lock lets one of them sync at a time.
 */
@Injectable()
export class DirectoryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Directory');
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly sync: DirectorySyncService,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    const s = this.sync.settings;
    if (!s) {
      this.logger.log('No directory configured (LDAP_URL unset): local users only');
      return;
    }
    if (s.insecure) {
      this.logger.warn(
        `LDAP_TLS_INSECURE=true: the certificate of ${s.url} is NOT checked, so directory passwords can be ` +
          'intercepted on the network path. Labs only.',
      );
    }
    this.logger.log(
      `Directory ${s.url} (base ${s.baseDn}); incremental sync every ${s.incrementalSyncMinutes} min, ` +
        `full every ${s.fullSyncMinutes} min (0 = only on request)`,
    );
    if (s.incrementalSyncMinutes > 0 || s.fullSyncMinutes > 0) this.schedule(0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const s = this.sync.settings!;
    const every = (s.incrementalSyncMinutes || s.fullSyncMinutes) * 60_000;
    try {
      const status = await readStatus(this.dataSource);
      const lastFull = status.lastFullSuccessAt ? Date.parse(status.lastFullSuccessAt) : 0;
      const fullDue = s.fullSyncMinutes > 0 && this.clock.now().getTime() - lastFull >= s.fullSyncMinutes * 60_000;
      const kind: SyncKind = fullDue || s.incrementalSyncMinutes === 0 ? 'full' : 'incremental';
      await this.sync.syncNow(kind, SYNC_ACTOR, 'schedule');
    } catch (error) {
      // 409: another replica is syncing; anything else (database away) is retried at the next tick.
      if (!(error instanceof ApiError))
        this.logger.warn(`Scheduled directory sync not run: ${(error as Error).message}`);
    } finally {
      this.schedule(every);
    }
  }
}
