import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../../audit/audit-chain.js';
import { Clock } from '../../common/clock.js';
import { NotificationBus } from '../../database/notification-bus.js';
import { GrantEntity } from './grant.entity.js';

/** What makes two requests "the same request" for a grant (policy-files.md). */
export interface GrantKeyParts {
  deviceId: string;
  action: string;
  remoteUserId: string;
  target: Record<string, string> | null | undefined;
}

export const targetKey = (target: GrantKeyParts['target']): string =>
  target && Object.keys(target).length > 0 ? canonicalJson(target) : '';

const keyOf = (deviceId: string, action: string, remoteUserId: string, target: string) =>
  JSON.stringify([deviceId, action, remoteUserId, target]);

/**
 * The live grants, in memory: the decision hot path must not read the database for the
 * common case of "no grant". Every replica reloads when a grant is created or ended
 * (bus topic grant.changed); a hit is confirmed in the database before it allows
 * anything, so a grant ended on another replica a moment ago allows nothing more.
 */
@Injectable()
export class GrantRegistry implements OnModuleInit {
  private readonly logger = new Logger('GrantRegistry');
  private live = new Map<string, GrantEntity[]>();
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly bus: NotificationBus,
  ) {
    this.bus.on('grant.changed', () => void this.reload());
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  /** Reloads the live grants; concurrent calls coalesce into one more load. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          const rows = await this.dataSource
            .getRepository(GrantEntity)
            .createQueryBuilder('g')
            .where('g.ended_at IS NULL AND g.expires_at > :now', { now: this.clock.now() })
            .getMany();
          const live = new Map<string, GrantEntity[]>();
          for (const g of rows) {
            const key = keyOf(g.deviceId, g.action, g.remoteUserId, g.targetKey);
            live.set(key, [...(live.get(key) ?? []), g]);
          }
          this.live = live;
        } catch (error) {
          // Keep the last known set; the database check on a hit keeps this safe.
          this.logger.warn(`Could not reload the live grants: ${(error as Error).message}`);
        }
      } while (this.again);
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** A live grant for this request, confirmed in the database; undefined if none. */
  async find(parts: GrantKeyParts, now: Date): Promise<GrantEntity | undefined> {
    const candidates = this.live.get(keyOf(parts.deviceId, parts.action, parts.remoteUserId, targetKey(parts.target)));
    if (!candidates) return undefined;
    for (const grant of candidates) {
      if (grant.expiresAt.getTime() <= now.getTime()) continue;
      const confirmed = await this.dataSource.query<{ id: string }[]>(
        'SELECT id FROM grants WHERE id = $1 AND ended_at IS NULL AND expires_at > $2',
        [grant.id, now],
      );
      if (confirmed.length > 0) return grant;
    }
    return undefined;
  }
}
