import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

const MAX_BACKOFF_SECONDS = 60;

/**
 * Slows down and then locks sign-in per user name, in Gatehouse, before any password is
 * checked: a locked name never reaches argon2 or the directory (no AD lockouts caused by us).
 *
 * Each attempt is counted when it starts (not when it fails), so a burst of parallel
 * guesses cannot all slip in before the first failure is written.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Counts the attempt; throws 429 when the name is in back-off or locked. */
  async begin(username: string): Promise<number> {
    const now = this.clock.now();
    const windowStart = new Date(now.getTime() - this.config.LOGIN_LOCK_MINUTES * 60_000);
    const rows = await this.dataSource.query<{ failures: number }[]>(
      `INSERT INTO login_throttle (username, failures, last_failure_at) VALUES ($1, 1, $2)
       ON CONFLICT (username) DO UPDATE SET
         failures = CASE WHEN login_throttle.last_failure_at < $3 THEN 1 ELSE login_throttle.failures + 1 END,
         last_failure_at = $2, blocked_until = NULL
       WHERE login_throttle.blocked_until IS NULL OR login_throttle.blocked_until <= $2
       RETURNING failures`,
      [username, now, windowStart],
    );
    const attempt = rows[0]?.failures;
    if (attempt === undefined) throw await this.blockedError(username);
    if (attempt > this.config.LOGIN_LOCK_AFTER) {
      await this.block(username, attempt);
      throw await this.blockedError(username);
    }
    return attempt;
  }

  /** The attempt failed: from LOGIN_BACKOFF_AFTER failures on, wait; from LOGIN_LOCK_AFTER on, locked. */
  async failed(username: string, attempt: number): Promise<void> {
    if (attempt >= this.config.LOGIN_BACKOFF_AFTER) await this.block(username, attempt);
  }

  /**
   * Takes back an attempt that checked no password (the directory could not be asked):
   * an outage must not lock people out. Only if no attempt was counted after it.
   */
  async withdraw(username: string, attempt: number): Promise<void> {
    await this.dataSource.query(
      'UPDATE login_throttle SET failures = failures - 1 WHERE username = $1 AND failures = $2',
      [username, attempt],
    );
  }

  async succeeded(username: string): Promise<void> {
    await this.dataSource.query('DELETE FROM login_throttle WHERE username = $1', [username]);
  }

  /** For administrators: lets a locked name sign in again at once. */
  async unlock(username: string): Promise<boolean> {
    const result = await this.dataSource.query<[unknown, number]>('DELETE FROM login_throttle WHERE username = $1', [
      username,
    ]);
    return result[1] > 0;
  }

  private async block(username: string, attempt: number): Promise<void> {
    const seconds =
      attempt >= this.config.LOGIN_LOCK_AFTER
        ? this.config.LOGIN_LOCK_MINUTES * 60
        : Math.min(2 ** (attempt - this.config.LOGIN_BACKOFF_AFTER), MAX_BACKOFF_SECONDS);
    const until = new Date(this.clock.now().getTime() + seconds * 1000);
    await this.dataSource.query(
      'UPDATE login_throttle SET blocked_until = GREATEST(COALESCE(blocked_until, $2), $2) WHERE username = $1',
      [username, until],
    );
  }

  private async blockedError(username: string): Promise<ApiError> {
    const rows = await this.dataSource.query<{ blocked_until: Date | null; failures: number }[]>(
      'SELECT blocked_until, failures FROM login_throttle WHERE username = $1',
      [username],
    );
    const until = rows[0]?.blocked_until ?? new Date(this.clock.now().getTime() + 1000);
    const retryAfter = Math.max(1, Math.ceil((until.getTime() - this.clock.now().getTime()) / 1000));
    const locked = (rows[0]?.failures ?? 0) >= this.config.LOGIN_LOCK_AFTER;
    return new ApiError(
      ErrorCode.RateLimited,
      locked
        ? `Too many failed sign-ins: this account is locked for ${Math.ceil(retryAfter / 60)} minute(s); an administrator can unlock it`
        : `Too many failed sign-ins: wait ${retryAfter} second(s) before trying again`,
      [],
      { headers: { 'retry-after': String(retryAfter) } },
    );
  }
}
