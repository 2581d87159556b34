import { actorEvent, type Actor } from '../audit/actor.js';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiError, conflict, ErrorCode, notFound } from '../common/api-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { RoleBinding } from '../auth/roles.js';
import { SessionRevocation } from '../auth/session-revocation.js';
import { GroupEntity } from './group.entity.js';
import { checkPasswordStrength, hashPassword } from './passwords.js';
import { describeRoleBindings, RolesService, type GroupIdentity } from './roles.service.js';
import { UserEntity } from './user.entity.js';

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  source: UserEntity['source'];
  disabled: boolean;
  groups: string[];
  createdAt: Date;
}

export const normalizeUsername = (username: string) => username.trim().toLowerCase();

/** The internal user store and local groups. Membership changes are audited as role changes. */
@Injectable()
export class UsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly roles: RolesService,
    private readonly audit: AuditService,
    private readonly sessions: SessionRevocation,
  ) {}

  /** Whether anyone has an account yet (first start: none), in the caller's transaction. */
  async anyExist(m: EntityManager = this.dataSource.manager): Promise<boolean> {
    const rows = await m.query<{ any: boolean }[]>('SELECT EXISTS (SELECT 1 FROM users) AS any');
    return rows[0].any;
  }

  async findByUsername(username: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ username: normalizeUsername(username) });
  }

  /** Whether a local account of this name is a member of the local group of this name (case-insensitive). */
  async isLocalMemberOfLocalGroup(username: string, group: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM users u JOIN group_members m ON m.user_id = u.id JOIN groups g ON g.id = m.group_id
       WHERE u.username = $1 AND u.source = 'local' AND g.source = 'local' AND lower(g.name) = $2 LIMIT 1`,
      [username, group.toLowerCase()],
    );
    return rows.length > 0;
  }

  async findById(id: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  async groupsOf(userId: string, manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    const rows = await manager.query<{ name: string }[]>(
      'SELECT g.name FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name',
      [userId],
    );
    return rows.map((r) => r.name);
  }

  /** The person's groups with every name the policy files may use for them (for roles and approver groups). */
  async membershipsOf(userId: string, manager: EntityManager = this.dataSource.manager): Promise<GroupIdentity[]> {
    return manager.query<GroupIdentity[]>(
      `SELECT g.name, g.source, g.aliases FROM groups g JOIN group_members m ON m.group_id = g.id
       WHERE m.user_id = $1 ORDER BY g.name`,
      [userId],
    );
  }

  async roleBindingsOf(userId: string): Promise<RoleBinding[]> {
    return this.roles.roleBindingsFor(await this.membershipsOf(userId));
  }

  async list(): Promise<UserView[]> {
    const users = await this.dataSource.getRepository(UserEntity).find({ order: { username: 'ASC' } });
    const memberships = await this.dataSource.query<{ user_id: string; name: string }[]>(
      'SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id ORDER BY g.name',
    );
    return users.map((u) =>
      this.view(
        u,
        memberships.filter((m) => m.user_id === u.id).map((m) => m.name),
      ),
    );
  }

  async get(id: string, manager: EntityManager = this.dataSource.manager): Promise<UserView> {
    const user = await manager.getRepository(UserEntity).findOneBy({ id });
    if (!user) throw notFound('User');
    return this.view(user, await this.groupsOf(user.id, manager));
  }

  view(user: UserEntity, groups: string[]): UserView {
    return {
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      email: user.email,
      source: user.source,
      disabled: user.disabled,
      groups,
      createdAt: user.createdAt,
    };
  }

  /** Creates a local user, optionally in local groups (created if missing). */
  async createLocalUser(
    input: { username: string; displayName?: string; email?: string; password: string; groups?: string[] },
    actor: Actor,
    manager?: EntityManager,
  ): Promise<UserView> {
    const username = normalizeUsername(input.username);
    checkPasswordStrength(input.password, username);
    const passwordHash = await hashPassword(input.password);
    const run = async (m: EntityManager) => {
      const inserted = await m.query<{ id: string }[]>(
        `INSERT INTO users (username, display_name, email, source, password_hash) VALUES ($1, $2, $3, 'local', $4)
         ON CONFLICT (username) DO NOTHING RETURNING id`,
        [username, input.displayName ?? username, input.email ?? null, passwordHash],
      );
      if (inserted.length === 0) throw conflict(`A user named '${username}' already exists`);
      const id = inserted[0].id;
      await this.audit.appendIn(m, actorEvent(actor, 'user.created', { details: { username, source: 'local' } }));
      for (const group of input.groups ?? []) await this.addMember(group, username, actor, m);
      return id;
    };
    if (manager) return this.get(await run(manager), manager);
    return this.get(await this.dataSource.transaction(run));
  }

  async setPassword(username: string, password: string, actor: Actor): Promise<void> {
    const user = await this.findByUsername(username);
    if (!user) throw notFound('User');
    if (user.source !== 'local') {
      throw new ApiError(ErrorCode.Conflict, 'Directory users change their password in the directory');
    }
    checkPasswordStrength(password, user.username);
    const passwordHash = await hashPassword(password);
    await this.dataSource.transaction(async (m) => {
      await m.query('UPDATE users SET password_hash = $1, updated_at = now() WHERE id = $2', [passwordHash, user.id]);
      // A new password ends every session signed in with the old one.
      await this.sessions.endAllOf(m, [user.id]);
      await this.audit.appendIn(m, actorEvent(actor, 'user.password_set', { details: { username: user.username } }));
    });
  }

  async setDisabled(id: string, disabled: boolean, actor: Actor): Promise<UserView> {
    const user = await this.findById(id);
    if (!user) throw notFound('User');
    const before = await this.roleBindingsOf(user.id);
    await this.dataSource.transaction(async (m) => {
      await m.query('UPDATE users SET disabled = $1, updated_at = now() WHERE id = $2', [disabled, id]);
      if (disabled) await this.sessions.endAllOf(m, [id]);
      await this.audit.appendIn(
        m,
        actorEvent(actor, disabled ? 'user.disabled' : 'user.enabled', {
          details: { username: user.username, roles: describeRoleBindings(before) },
        }),
      );
    });
    return this.get(id);
  }

  async createGroup(name: string, description: string, actor: Actor): Promise<GroupEntity> {
    const id = await this.dataSource.transaction(async (m) => {
      const inserted = await m.query<{ id: string }[]>(
        `INSERT INTO groups (name, source, description) VALUES ($1, 'local', $2) ON CONFLICT (name) DO NOTHING RETURNING id`,
        [name, description],
      );
      if (inserted.length === 0) throw conflict(`A group named '${name}' already exists`);
      await this.audit.appendIn(m, actorEvent(actor, 'group.created', { details: { group: name } }));
      return inserted[0].id;
    });
    return (await this.dataSource.getRepository(GroupEntity).findOneBy({ id }))!;
  }

  async listGroups(): Promise<{ name: string; source: string; description: string; members: string[] }[]> {
    const rows = await this.dataSource.query<
      { name: string; source: string; description: string; members: string[] }[]
    >(
      `SELECT g.name, g.source, g.description,
              COALESCE(array_agg(u.username ORDER BY u.username) FILTER (WHERE u.id IS NOT NULL), '{}') AS members
       FROM groups g LEFT JOIN group_members m ON m.group_id = g.id LEFT JOIN users u ON u.id = m.user_id
       GROUP BY g.id ORDER BY g.name`,
    );
    return rows;
  }

  /** Adds a user to a local group (created if missing) and audits any role it gains. */
  async addMember(groupName: string, username: string, actor: Actor, manager?: EntityManager): Promise<void> {
    await this.changeMembership(groupName, username, 'add', actor, manager);
  }

  async removeMember(groupName: string, username: string, actor: Actor): Promise<void> {
    await this.changeMembership(groupName, username, 'remove', actor);
  }

  private async changeMembership(
    groupName: string,
    username: string,
    change: 'add' | 'remove',
    actor: Actor,
    manager?: EntityManager,
  ): Promise<void> {
    const run = async (m: EntityManager) => {
      const users = await m.query<
        {
          id: string;
          username: string;
        }[]
      >('SELECT id, username FROM users WHERE username = $1', [normalizeUsername(username)]);
      const user = users[0];
      if (!user) throw notFound('User');
      if (change === 'add') {
        await m.query(`INSERT INTO groups (name, source) VALUES ($1, 'local') ON CONFLICT (name) DO NOTHING`, [
          groupName,
        ]);
      }
      const groups = await m.query<
        {
          id: string;
          source: string;
        }[]
      >('SELECT id, source FROM groups WHERE name = $1', [groupName]);
      const group = groups[0];
      if (!group) throw notFound('Group');
      if (group.source !== 'local') throw conflict('Directory groups are managed in the directory');
      const before = this.roles.roleBindingsFor(await this.membershipsOf(user.id, m));
      if (change === 'add') {
        await m.query('INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
          group.id,
          user.id,
        ]);
      } else {
        await m.query('DELETE FROM group_members WHERE group_id = $1 AND user_id = $2', [group.id, user.id]);
      }
      const after = this.roles.roleBindingsFor(await this.membershipsOf(user.id, m));
      await this.auditRoleChange(m, user.username, groupName, change, before, after, actor);
    };
    if (manager) await run(manager);
    else await this.dataSource.transaction(run);
  }

  private async auditRoleChange(
    m: EntityManager,
    username: string,
    group: string,
    change: 'add' | 'remove',
    before: RoleBinding[],
    after: RoleBinding[],
    actor: Actor,
  ): Promise<void> {
    const b = describeRoleBindings(before);
    const a = describeRoleBindings(after);
    await this.audit.appendIn(
      m,
      actorEvent(actor, change === 'add' ? 'group.member_added' : 'group.member_removed', {
        details: { username, group },
      }),
    );
    const gained = a.filter((r) => !b.includes(r));
    const lost = b.filter((r) => !a.includes(r));
    if (gained.length === 0 && lost.length === 0) return;
    await this.audit.appendIn(m, actorEvent(actor, 'role.changed', { details: { username, group, gained, lost } }));
  }
}
