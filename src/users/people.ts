import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RoleBinding } from '../auth/roles.js';
import { Clock } from '../common/clock.js';
import { RolesService, type GroupIdentity } from './roles.service.js';
import { UserEntity } from './user.entity.js';

export interface Person {
  user: UserEntity;
  groups: GroupIdentity[];
  /** The roles the groups give, each with the access entries and the person's groups it came from. */
  roleBindings: RoleBinding[];
  /** Until when sign-in is refused for this name (back-off or lock), if it is now. */
  blockedUntil: Date | null;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * People for the console: who has which role and why, a page at a time (user name cursor),
 * with three queries a page (users, their groups, their sign-in blocks).
 */
/**
 * The sign-in blocks in force ($1 = now) by user name. LoginThrottleService keys its rows
 * `account:<name>` (every address) and `pair:<address> <name>` (one address).
 * TODO(ownership): ask LoginThrottleService instead of reading its table.
 */
const BLOCKS = `SELECT CASE WHEN username LIKE 'account:%' THEN substr(username, 9)
    WHEN username LIKE 'pair:%' THEN substr(username, strpos(username, ' ') + 1) END AS username,
    blocked_until, failures
  FROM login_throttle WHERE blocked_until > $1 AND (username LIKE 'account:%' OR username LIKE 'pair:%')`;

@Injectable()
export class People {
  constructor(
    private readonly dataSource: DataSource,
    private readonly roles: RolesService,
    private readonly clock: Clock,
  ) {}

  async page(q: {
    text?: string;
    after?: string;
    limit: number;
  }): Promise<{ items: Person[]; nextCursor: string | null }> {
    const qb = this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .orderBy('u.username', 'ASC')
      .limit(q.limit + 1);
    if (q.after) qb.andWhere('u.username > :after', { after: q.after });
    if (q.text) {
      qb.andWhere("(u.username ILIKE :text ESCAPE '\\' OR u.display_name ILIKE :text ESCAPE '\\')", {
        text: likePattern(q.text),
      });
    }
    const rows = await qb.getMany();
    const users = rows.slice(0, q.limit);
    if (users.length === 0) return { items: [], nextCursor: null };
    const ids = users.map((u) => u.id);
    const [memberships, blocks] = await Promise.all([
      this.dataSource.query<(GroupIdentity & { user_id: string })[]>(
        `SELECT m.user_id, g.name, g.source, g.aliases FROM group_members m JOIN groups g ON g.id = m.group_id
          WHERE m.user_id = ANY($1) ORDER BY g.name`,
        [ids],
      ),
      this.dataSource.query<{ username: string; blocked_until: Date }[]>(
        `SELECT username, max(blocked_until) AS blocked_until FROM (${BLOCKS}) b
          WHERE username = ANY($2) GROUP BY username`,
        [this.clock.now(), users.map((u) => u.username)],
      ),
    ]);
    const items = users.map((user) => {
      const groups = memberships
        .filter((m) => m.user_id === user.id)
        .map(({ name, source, aliases }) => ({ name, source, aliases }));
      const block = blocks.find((b) => b.username === user.username);
      return {
        user,
        groups,
        roleBindings: this.roles.roleBindingsFor(groups),
        blockedUntil: block?.blocked_until ?? null,
      };
    });
    return { items, nextCursor: rows.length > q.limit ? users[users.length - 1].username : null };
  }

  /** User names that cannot sign in now, from some address or from all (LoginThrottleService's keys) (also directory names with no account here yet). */
  async blockedNames(limit: number): Promise<{ username: string; blockedUntil: Date; failures: number }[]> {
    const rows = await this.dataSource.query<{ username: string; blocked_until: Date; failures: number }[]>(
      `SELECT username, max(blocked_until) AS blocked_until, max(failures) AS failures FROM (${BLOCKS}) b
        GROUP BY username ORDER BY max(blocked_until) DESC LIMIT $2`,
      [this.clock.now(), limit],
    );
    return rows.map((r) => ({ username: r.username, blockedUntil: r.blocked_until, failures: r.failures }));
  }
}
