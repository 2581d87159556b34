import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { UserEntity } from '../users/user.entity.js';

export interface ActiveSession {
  sessionId: string;
  user: UserEntity;
}

// Writing last_seen_at on every call would make each staff request a write; a minute's
// resolution is plenty for an idle limit counted in minutes.
const TOUCH_EVERY_MS = 60_000;

/** Server-side sessions behind bearer tokens: revocable, with an absolute and an idle expiry. */
@Injectable()
export class SessionsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async open(userId: string, sourceAddress: string | null): Promise<{ id: string; expiresAt: Date }> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.config.SESSION_TTL_MINUTES * 60_000);
    const rows = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at, source_address) VALUES ($1, $2, $2, $3, $4) RETURNING id`,
      [userId, now, expiresAt, sourceAddress],
    );
    return { id: rows[0].id, expiresAt };
  }

  /** The live session and its user, or null when revoked, expired, idle too long or the user is disabled. */
  async resume(sessionId: string, userId: string): Promise<ActiveSession | null> {
    const now = this.clock.now();
    const idleSince = new Date(now.getTime() - this.config.SESSION_IDLE_MINUTES * 60_000);
    const rows = await this.dataSource.query<
      {
        last_seen_at: Date;
        id: string;
        username: string;
        display_name: string;
        email: string | null;
        source: 'local' | 'directory';
        disabled: boolean;
      }[]
    >(
      `SELECT s.last_seen_at, u.id, u.username, u.display_name, u.email, u.source, u.disabled
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND s.last_seen_at > $4`,
      [sessionId, userId, now, idleSince],
    );
    const row = rows[0];
    if (!row || row.disabled) return null;
    if (now.getTime() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
      await this.dataSource.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2', [
        sessionId,
        now,
      ]);
    }
    const user = Object.assign(new UserEntity(), {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      email: row.email,
      source: row.source,
      disabled: row.disabled,
    });
    return { sessionId, user };
  }

  /**
   * Which of these sessions are still live (not revoked, expired or idle, user not disabled),
   * in one read that touches nothing: an open event stream must not keep a session from idling.
   */
  async liveAmong(sessionIds: string[]): Promise<Set<string>> {
    if (sessionIds.length === 0) return new Set();
    const now = this.clock.now();
    const idleSince = new Date(now.getTime() - this.config.SESSION_IDLE_MINUTES * 60_000);
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT s.id::text AS id FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id::text = ANY($1::text[]) AND s.revoked_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3
         AND NOT u.disabled`,
      [sessionIds, now, idleSince],
    );
    return new Set(rows.map((r) => r.id));
  }

  async revoke(sessionId: string): Promise<boolean> {
    const result = await this.dataSource.query<[unknown[], number]>(
      'UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
      [sessionId, this.clock.now()],
    );
    return result[1] > 0;
  }
}
