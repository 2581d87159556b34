import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { Clock } from '../common/clock.js';
import { LoginThrottleEntity } from './login-throttle.entity.js';

export interface SignInBlock {
  username: string;
  blockedUntil: Date;
  failures: number;
}

/**
 * The sign-in blocks in force ($1 = now) by user name. LoginThrottleService keys its rows
 * `account:<name>` (every address) and `pair:<address> <name>` (one address).
 */
const BLOCKS = `SELECT CASE WHEN username LIKE 'account:%' THEN substr(username, 9)
    WHEN username LIKE 'pair:%' THEN substr(username, strpos(username, ' ') + 1) END AS username,
    blocked_until, failures
  FROM login_throttle WHERE blocked_until > $1 AND (username LIKE 'account:%' OR username LIKE 'pair:%')`;

/**
 * Who cannot sign in now, for the console's People pages: auth owns login_throttle and its
 * keys, so the users module asks here instead of reading the table.
 */
@Injectable()
export class SignInBlocks {
  constructor(
    @InjectRepository(LoginThrottleEntity) private readonly throttle: Repository<LoginThrottleEntity>,
    private readonly clock: Clock,
  ) {}

  /** The latest block in force for each of these names (names with none are absent). */
  async of(usernames: string[]): Promise<Map<string, Date>> {
    if (usernames.length === 0) return new Map();
    const rows = await this.throttle.query<{ username: string; blocked_until: Date }[]>(
      `SELECT username, max(blocked_until) AS blocked_until FROM (${BLOCKS}) b
        WHERE username = ANY($2) GROUP BY username`,
      [this.clock.now(), usernames],
    );
    return new Map(rows.map((r) => [r.username, r.blocked_until]));
  }

  /** Names that cannot sign in now, from some address or from all (also directory names with no account here yet). */
  async all(limit: number): Promise<SignInBlock[]> {
    const rows = await this.throttle.query<{ username: string; blocked_until: Date; failures: number }[]>(
      `SELECT username, max(blocked_until) AS blocked_until, max(failures) AS failures FROM (${BLOCKS}) b
        GROUP BY username ORDER BY max(blocked_until) DESC LIMIT $2`,
      [this.clock.now(), limit],
    );
    return rows.map((r) => ({ username: r.username, blockedUntil: r.blocked_until, failures: r.failures }));
  }
}
