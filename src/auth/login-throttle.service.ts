import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

const MAX_BACKOFF_SECONDS = 60;

/**
 * The rows of login_throttle (its `username` column is the key):
 * - `pair:<address> <account>`: one address's attempts at one account; back-off, then lock.
 *   This is the lock people meet: an attacker locks the account only for their own address.
 * - `account:<account>`: attempts from every address; a lock at LOGIN_ACCOUNT_LOCK_AFTER
 *   (many addresses guessing one password), and the directory's bind budget.
 * - `address:<address>`: failures from one address at any account (a failing address).
 */
const pairKey = (account: string, address: string) => `pair:${address} ${account}`;
const accountKey = (account: string) => `account:${account}`;
const addressKey = (address: string) => `address:${address}`;

/** Attempt numbers within the window, counted when the attempt starts. */
export interface LoginAttempt {
  /** From this address at this account. */
  pair: number;
  /** At this account from anywhere (0 when a break-glass sign-in passed a held account). */
  account: number;
}

/**
 * Slows down and then locks sign-in per account AND source address, in Gatehouse, before any
 * password is checked: a locked pair never reaches argon2 or the directory (no AD lockouts
 * caused by us). Kept in the database so that every replica throttles alike.
 *
 * Each attempt is counted when it starts (not when it fails), so a burst of parallel
 * guesses cannot all slip in before the first failure is written.
 *
 * The break-glass administrators (local group gatehouse-admins) are never held by the
 * account-wide lock when they come from an address that is not failing: otherwise anyone
 * could lock every administrator out, for ever, from a few addresses.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Counts the attempt; throws 429 when the pair is in back-off or locked, or the account is locked. */
  async begin(account: string, address: string, breakGlass: boolean): Promise<LoginAttempt> {
    const accountHeld = await this.isBlocked(accountKey(account));
    const exempt = breakGlass && (await this.recentFailures(addressKey(address))) < this.config.LOGIN_BACKOFF_AFTER;
    if (accountHeld && !exempt) throw await this.blockedError(accountKey(account), true);

    const pair = await this.count(pairKey(account, address));
    if (pair === undefined) throw await this.blockedError(pairKey(account, address), false);
    if (pair > this.config.LOGIN_LOCK_AFTER) {
      await this.block(pairKey(account, address), this.lockSeconds());
      throw await this.blockedError(pairKey(account, address), true);
    }
    // A held account is not counted further: the break-glass sign-in passing it must not extend it.
    const total = accountHeld ? 0 : ((await this.count(accountKey(account))) ?? 0);
    if (total > this.config.LOGIN_ACCOUNT_LOCK_AFTER && !exempt) {
      await this.block(accountKey(account), this.lockSeconds());
      await this.withdrawOne(pairKey(account, address), pair);
      throw await this.blockedError(accountKey(account), true);
    }
    return { pair, account: total };
  }

  /** The attempt failed: the pair backs off and then locks; many failures lock the account. */
  async failed(account: string, address: string, attempt: LoginAttempt): Promise<void> {
    await this.count(addressKey(address));
    if (attempt.pair >= this.config.LOGIN_BACKOFF_AFTER) {
      const seconds =
        attempt.pair >= this.config.LOGIN_LOCK_AFTER
          ? this.lockSeconds()
          : Math.min(2 ** (attempt.pair - this.config.LOGIN_BACKOFF_AFTER), MAX_BACKOFF_SECONDS);
      await this.block(pairKey(account, address), seconds);
    }
    if (attempt.account >= this.config.LOGIN_ACCOUNT_LOCK_AFTER) {
      await this.block(accountKey(account), this.lockSeconds());
    }
  }

  /**
   * Takes back an attempt that checked no password (the directory could not be asked):
   * an outage must not lock people out. Only if no attempt was counted after it.
   */
  async withdraw(account: string, address: string, attempt: LoginAttempt): Promise<void> {
    await this.withdrawOne(pairKey(account, address), attempt.pair);
    await this.withdrawOne(accountKey(account), attempt.account);
  }

  /** The right password: this address's count and the account's start again (the address's stays). */
  async succeeded(account: string, address: string): Promise<void> {
    await this.dataSource.query('DELETE FROM login_throttle WHERE username = $1 OR username = $2', [
      pairKey(account, address),
      accountKey(account),
    ]);
  }

  /** For administrators: lets a locked account sign in again at once, from every address. */
  async unlock(account: string): Promise<boolean> {
    const result = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM login_throttle WHERE username = $1
         OR (username LIKE 'pair:%' AND substr(username, strpos(username, ' ') + 1) = $2)`,
      [accountKey(account), account],
    );
    return result[1] > 0;
  }

  /** Adds one to a key's count in the window; undefined while the key is blocked. */
  private async count(key: string): Promise<number | undefined> {
    const now = this.clock.now();
    const rows = await this.dataSource.query<{ failures: number }[]>(
      `INSERT INTO login_throttle (username, failures, last_failure_at) VALUES ($1, 1, $2)
       ON CONFLICT (username) DO UPDATE SET
         failures = CASE WHEN login_throttle.last_failure_at < $3 THEN 1 ELSE login_throttle.failures + 1 END,
         last_failure_at = $2, blocked_until = NULL
       WHERE login_throttle.blocked_until IS NULL OR login_throttle.blocked_until <= $2
       RETURNING failures`,
      [key, now, this.windowStart()],
    );
    return rows[0]?.failures;
  }

  private async withdrawOne(key: string, attempt: number): Promise<void> {
    await this.dataSource.query(
      'UPDATE login_throttle SET failures = failures - 1 WHERE username = $1 AND failures = $2',
      [key, attempt],
    );
  }

  private async isBlocked(key: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM login_throttle WHERE username = $1 AND blocked_until > $2',
      [key, this.clock.now()],
    );
    return rows.length > 0;
  }

  private async recentFailures(key: string): Promise<number> {
    const rows = await this.dataSource.query<{ failures: number }[]>(
      'SELECT failures FROM login_throttle WHERE username = $1 AND last_failure_at >= $2',
      [key, this.windowStart()],
    );
    return rows[0]?.failures ?? 0;
  }

  private windowStart(): Date {
    return new Date(this.clock.now().getTime() - this.lockSeconds() * 1000);
  }

  private lockSeconds(): number {
    return this.config.LOGIN_LOCK_MINUTES * 60;
  }

  private async block(key: string, seconds: number): Promise<void> {
    const until = new Date(this.clock.now().getTime() + seconds * 1000);
    await this.dataSource.query(
      'UPDATE login_throttle SET blocked_until = GREATEST(COALESCE(blocked_until, $2), $2) WHERE username = $1',
      [key, until],
    );
  }

  private async blockedError(key: string, locked: boolean): Promise<ApiError> {
    const rows = await this.dataSource.query<{ blocked_until: Date | null }[]>(
      'SELECT blocked_until FROM login_throttle WHERE username = $1',
      [key],
    );
    const until = rows[0]?.blocked_until ?? new Date(this.clock.now().getTime() + 1000);
    const retryAfter = Math.max(1, Math.ceil((until.getTime() - this.clock.now().getTime()) / 1000));
    return new ApiError(
      ErrorCode.RateLimited,
      locked || retryAfter > MAX_BACKOFF_SECONDS
        ? `Too many failed sign-ins: this account is locked for ${Math.ceil(retryAfter / 60)} minute(s); an administrator can unlock it`
        : `Too many failed sign-ins: wait ${retryAfter} second(s) before trying again`,
      [],
      { headers: { 'retry-after': String(retryAfter) } },
    );
  }
}
