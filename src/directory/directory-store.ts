import type { EntityManager } from 'typeorm';
import type { AuditEvent } from '../audit/audit-chain.js';
import type { RoleBinding } from '../auth/roles.js';
import type { GroupIdentity } from '../users/roles.service.js';
import type { DirectorySnapshot } from './directory-model.js';
import { normalizeDn } from './ldap-filter.js';
import type { EndSessions, StoredGroup, StoredUser, SyncCounts } from './store-common.js';
import { writeGroups } from './store-groups.js';
import { writeMemberships, type MembershipRow } from './store-memberships.js';
import { writeUsers } from './store-users.js';

export type { SyncCounts } from './store-common.js';

/** The stored copy of the directory, as an incremental sync's starting point. */
export async function loadSnapshot(m: EntityManager): Promise<DirectorySnapshot> {
  const users = await m.query<StoredUser[]>(
    `SELECT du.user_id, du.guid, u.username, u.display_name, du.directory_disabled AS disabled, du.directory_disabled,
            du.dn, du.upn, du.mail, du.usn_changed, false AS removed
     FROM directory_users du JOIN users u ON u.id = du.user_id WHERE du.removed_at IS NULL`,
  );
  const groups = await m.query<StoredGroup[]>(
    `SELECT dg.group_id, dg.guid, g.name, g.description, g.aliases, dg.dn, dg.cn, dg.member_guids, dg.usn_changed
     FROM directory_groups dg JOIN groups g ON g.id = dg.group_id`,
  );
  return {
    users: new Map(
      users.map((u) => [
        u.guid,
        {
          guid: u.guid,
          dn: u.dn,
          account: u.username,
          upn: u.upn,
          displayName: u.display_name,
          mail: u.mail,
          disabled: u.disabled,
          usnChanged: Number(u.usn_changed),
        },
      ]),
    ),
    groups: new Map(
      groups.map((g) => [
        g.guid,
        {
          guid: g.guid,
          dn: g.dn,
          name: g.name,
          cn: g.cn,
          description: g.description,
          memberGuids: g.member_guids,
          usnChanged: Number(g.usn_changed),
        },
      ]),
    ),
  };
}

/** DN (normalised) → GUID, for turning `member` values into GUIDs. */
export function dnIndex(snapshot: DirectorySnapshot): Map<string, string> {
  const index = new Map<string, string>();
  for (const u of snapshot.users.values()) index.set(normalizeDn(u.dn), u.guid);
  for (const g of snapshot.groups.values()) index.set(normalizeDn(g.dn), g.guid);
  return index;
}

/**
 * Makes the stored copy equal to `next`, inside the caller's transaction, and returns the counts
 * and the audit events for role changes. INVARIANT: called only with a complete snapshot (a read
 * that failed part-way never gets here), since whatever is absent from `next` is removed.
 */
export async function applySnapshot(
  m: EntityManager,
  next: DirectorySnapshot,
  roleBindingsFor: (groups: GroupIdentity[]) => RoleBinding[],
  endSessions: EndSessions,
): Promise<{ counts: SyncCounts; roleEvents: AuditEvent['details'][] }> {
  const counts: SyncCounts = {
    usersInDirectory: next.users.size,
    groupsInDirectory: next.groups.size,
    usersAdded: 0,
    usersUpdated: 0,
    usersRemoved: 0,
    usersDisabled: 0,
    groupsAdded: 0,
    groupsUpdated: 0,
    groupsRemoved: 0,
    membershipsAdded: 0,
    membershipsRemoved: 0,
    roleChanges: 0,
    skipped: [],
  };
  // Every group of every directory user (local ones too), read first: the roles before the change.
  const memberships = await m.query<MembershipRow[]>(
    `SELECT gm.user_id, gm.group_id, g.name, g.source, g.aliases FROM group_members gm
     JOIN groups g ON g.id = gm.group_id JOIN users u ON u.id = gm.user_id WHERE u.source = 'directory'`,
  );
  const users = await writeUsers(m, next, counts, endSessions);
  const groups = await writeGroups(m, next, counts);
  const roleEvents = await writeMemberships(m, next, counts, memberships, users, groups, roleBindingsFor);
  return { counts, roleEvents };
}
