import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RoleBinding } from '../auth/roles.js';
import { SignInBlocks, type SignInBlock } from '../auth/sign-in-blocks.js';
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
@Injectable()
export class People {
  constructor(
    private readonly dataSource: DataSource,
    private readonly roles: RolesService,
    private readonly signInBlocks: SignInBlocks,
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
      this.signInBlocks.of(users.map((u) => u.username)),
    ]);
    const items = users.map((user) => {
      const groups = memberships
        .filter((m) => m.user_id === user.id)
        .map(({ name, source, aliases }) => ({ name, source, aliases }));
      return {
        user,
        groups,
        roleBindings: this.roles.roleBindingsFor(groups),
        blockedUntil: blocks.get(user.username) ?? null,
      };
    });
    return { items, nextCursor: rows.length > q.limit ? users[users.length - 1].username : null };
  }

  /** User names that cannot sign in now, from some address or from all (also directory names with no account here yet). */
  blockedNames(limit: number): Promise<SignInBlock[]> {
    return this.signInBlocks.all(limit);
  }
}
