import type { EntityManager } from 'typeorm';
import { addMemberships, removeMemberships } from '../users/directory-accounts.js';
import type { AuditEvent } from '../audit/audit-chain.js';
import type { RoleBinding } from '../auth/roles.js';
import { describeRoleBindings, type GroupIdentity } from '../users/roles.service.js';
import type { DirectoryGroup, DirectorySnapshot } from './directory-model.js';
import { effectiveGroups } from './membership.js';
import { groupAliases, inBatches, type StoredGroup, type StoredUser, type SyncCounts } from './store-common.js';
import type { KeptUser } from './store-users.js';

export interface MembershipRow {
  user_id: string;
  group_id: string;
  name: string;
  source: string;
  aliases: string[];
}

/**
 * Writes the effective (nested) memberships of enabled users in kept groups, and returns who
 * gained or lost which role, judged under the policy set in force now (so only membership
 * changes count).
 */
export async function writeMemberships(
  m: EntityManager,
  next: DirectorySnapshot,
  counts: SyncCounts,
  memberships: MembershipRow[],
  users: { storedUsers: StoredUser[]; keptUsers: Map<string, KeptUser>; userIdOf: Map<string, string> },
  groups: {
    storedGroups: StoredGroup[];
    keptGroups: Map<string, DirectoryGroup>;
    groupIdOf: Map<string, string>;
    goneGroups: StoredGroup[];
  },
  roleBindingsFor: (groups: GroupIdentity[]) => RoleBinding[],
): Promise<AuditEvent['details'][]> {
  const { storedUsers, keptUsers, userIdOf } = users;
  const { storedGroups, keptGroups, groupIdOf, goneGroups } = groups;
  const directMembers = new Map([...next.groups.values()].map((g) => [g.guid, g.memberGuids]));
  const enabled = [...keptUsers.values()].filter((u) => !u.disabled);
  const closure = effectiveGroups(
    { directMembers },
    enabled.map((u) => u.guid),
  );
  const desired = new Set<string>();
  for (const user of enabled) {
    for (const groupGuid of closure.get(user.guid) ?? []) {
      const groupId = keptGroups.has(groupGuid) ? groupIdOf.get(groupGuid) : undefined;
      if (groupId) desired.add(`${groupId} ${userIdOf.get(user.guid)}`);
    }
  }
  const directoryGroupIds = new Set(storedGroups.map((g) => g.group_id));
  const current = new Set(
    memberships.filter((r) => directoryGroupIds.has(r.group_id)).map((r) => `${r.group_id} ${r.user_id}`),
  );
  const goneGroupIds = new Set(goneGroups.map((g) => g.group_id));
  const toRemove = [...current].filter((k) => !desired.has(k) && !goneGroupIds.has(k.split(' ')[0]));
  const toAdd = [...desired].filter((k) => !current.has(k));
  counts.membershipsAdded = toAdd.length;
  counts.membershipsRemoved = toRemove.length + memberships.filter((r) => goneGroupIds.has(r.group_id)).length;
  const pairs = (keys: string[]): [string[], string[]] => [
    keys.map((k) => k.split(' ')[0]),
    keys.map((k) => k.split(' ')[1]),
  ];
  await inBatches(toRemove, (slice) => removeMemberships(m, ...pairs(slice)));
  await inBatches(toAdd, (slice) => addMemberships(m, ...pairs(slice)));

  // ---- role changes, per person, under the policy set in force now (so only membership changes count).
  // Roles before come from the groups as they were (a renamed group may stop matching `access`).
  const identityBefore = new Map<string, GroupIdentity>();
  for (const r of memberships) {
    identityBefore.set(r.group_id, { name: r.name, source: r.source as GroupIdentity['source'], aliases: r.aliases });
  }
  const identityAfter = new Map(identityBefore);
  for (const g of keptGroups.values()) {
    identityAfter.set(groupIdOf.get(g.guid)!, { name: g.name, source: 'directory', aliases: groupAliases(g) });
  }
  const renamedGroups = new Set(
    [...identityBefore.keys()].filter((id) => {
      const b = identityBefore.get(id)!;
      const a = identityAfter.get(id)!;
      return b.name !== a.name || (b.aliases ?? []).join('\n') !== (a.aliases ?? []).join('\n');
    }),
  );
  const add = (map: Map<string, string[]>, userId: string, groupId: string) => {
    const list = map.get(userId);
    if (list) list.push(groupId);
    else map.set(userId, [groupId]);
  };
  const before = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  for (const r of memberships) {
    add(before, r.user_id, r.group_id);
    if (!directoryGroupIds.has(r.group_id)) add(after, r.user_id, r.group_id);
  }
  for (const key of desired) {
    const [groupId, userId] = key.split(' ');
    add(after, userId, groupId);
  }
  const usernameOf = new Map<string, string>();
  for (const s of storedUsers) usernameOf.set(s.user_id, s.username);
  for (const u of keptUsers.values()) usernameOf.set(userIdOf.get(u.guid)!, u.username);
  const rolesOf = (ids: string[], identities: Map<string, GroupIdentity>) =>
    describeRoleBindings(roleBindingsFor(ids.map((id) => identities.get(id)).filter((g) => g !== undefined)));
  const roleEvents: AuditEvent['details'][] = [];
  for (const userId of new Set([...before.keys(), ...after.keys()])) {
    const b = [...(before.get(userId) ?? [])].sort();
    const a = [...(after.get(userId) ?? [])].sort();
    // Same groups, none renamed: same roles (this skips nearly everyone in a sync of a large directory).
    if (b.join() === a.join() && !b.some((id) => renamedGroups.has(id))) continue;
    const rolesBefore = rolesOf(b, identityBefore);
    const rolesAfter = rolesOf(a, identityAfter);
    const gained = rolesAfter.filter((r) => !rolesBefore.includes(r));
    const lost = rolesBefore.filter((r) => !rolesAfter.includes(r));
    if (gained.length === 0 && lost.length === 0) continue;
    roleEvents.push({ username: usernameOf.get(userId) ?? userId, gained, lost });
  }
  counts.roleChanges = roleEvents.length;
  return roleEvents;
}
