import type { EntityManager } from 'typeorm';
import type { AuditEvent } from '../audit/audit-chain.js';
import type { RoleGrant } from '../auth/roles.js';
import { describeGrants, type GroupIdentity } from '../users/roles.service.js';
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser } from './directory-model.js';
import { normalizeDn, normalizeGroupRef } from './ldap-filter.js';
import { effectiveGroups } from './membership.js';

/** What a sync changed (or, in a dry run, would change). */
export interface SyncCounts {
  usersInDirectory: number;
  groupsInDirectory: number;
  usersAdded: number;
  usersUpdated: number;
  usersRemoved: number;
  usersDisabled: number;
  groupsAdded: number;
  groupsUpdated: number;
  groupsRemoved: number;
  membershipsAdded: number;
  membershipsRemoved: number;
  roleChanges: number;
  /** Accounts or groups left out, with the reason (e.g. a local user of the same name). */
  skipped: string[];
}

interface StoredUser {
  user_id: string;
  guid: string;
  username: string;
  display_name: string;
  disabled: boolean;
  dn: string;
  upn: string | null;
  mail: string | null;
  usn_changed: string;
  removed: boolean;
}

interface StoredGroup {
  group_id: string;
  guid: string;
  name: string;
  description: string;
  aliases: string[];
  dn: string;
  cn: string;
  member_guids: string[];
  usn_changed: string;
}

const BATCH = 5000;

/** Runs `fn` over `items` in slices, so no statement carries an unbounded array. */
async function inBatches<T>(items: T[], fn: (slice: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await fn(items.slice(i, i + BATCH));
}

/** The stored copy of the directory, as an incremental sync's starting point. */
export async function loadSnapshot(m: EntityManager): Promise<DirectorySnapshot> {
  const users = await m.query<StoredUser[]>(
    `SELECT du.user_id, du.guid, u.username, u.display_name, u.disabled, du.dn, du.upn, du.mail, du.usn_changed,
            false AS removed
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

const groupAliases = (g: DirectoryGroup) => [...new Set([normalizeGroupRef(g.cn), normalizeDn(g.dn)])].sort();
const sameArray = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Makes the stored copy equal to `next`, inside the caller's transaction, and returns the counts
 * and the audit events for role changes. INVARIANT: called only with a complete snapshot (a read
 * that failed part-way never gets here), since whatever is absent from `next` is removed.
 */
export async function applySnapshot(
  m: EntityManager,
  next: DirectorySnapshot,
  grantsFor: (groups: GroupIdentity[]) => RoleGrant[],
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
  const storedUsers = await m.query<StoredUser[]>(
    `SELECT du.user_id, du.guid, u.username, u.display_name, u.disabled, du.dn, du.upn, du.mail, du.usn_changed,
            du.removed_at IS NOT NULL AS removed
     FROM directory_users du JOIN users u ON u.id = du.user_id`,
  );
  const storedGroups = await m.query<StoredGroup[]>(
    `SELECT dg.group_id, dg.guid, g.name, g.description, g.aliases, dg.dn, dg.cn, dg.member_guids, dg.usn_changed
     FROM directory_groups dg JOIN groups g ON g.id = dg.group_id`,
  );
  const localUserNames = new Set(
    (await m.query<{ username: string }[]>(`SELECT username FROM users WHERE source <> 'directory'`)).map(
      (r) => r.username,
    ),
  );
  const localGroupNames = new Set(
    (await m.query<{ name: string }[]>(`SELECT name FROM groups WHERE source <> 'directory'`)).map((r) => r.name),
  );
  // Every group of every directory user (local ones too), for the roles before the change.
  const memberships = await m.query<
    { user_id: string; group_id: string; name: string; source: string; aliases: string[] }[]
  >(
    `SELECT gm.user_id, gm.group_id, g.name, g.source, g.aliases FROM group_members gm
     JOIN groups g ON g.id = gm.group_id JOIN users u ON u.id = gm.user_id WHERE u.source = 'directory'`,
  );

  // ---- users: which accounts to keep, and under which name
  const keptUsers = new Map<string, DirectoryUser & { username: string }>();
  const namesTaken = new Set<string>();
  for (const user of [...next.users.values()].sort((a, b) => a.usnChanged - b.usnChanged)) {
    const username = user.account.toLowerCase();
    if (localUserNames.has(username)) {
      counts.skipped.push(`user ${user.account}: a local user has this name (the local user keeps it)`);
      continue;
    }
    if (namesTaken.has(username)) {
      counts.skipped.push(`user ${user.account}: another directory account has the same name`);
      continue;
    }
    namesTaken.add(username);
    keptUsers.set(user.guid, { ...user, username });
  }
  const storedByGuid = new Map(storedUsers.map((u) => [u.guid, u]));
  const userIdOf = new Map(storedUsers.map((u) => [u.guid, u.user_id]));
  const updates: {
    id: string;
    username: string;
    displayName: string;
    disabled: boolean;
    dn: string;
    upn: string | null;
    mail: string | null;
    usn: number;
    removed: boolean;
  }[] = [];
  const endSessions: string[] = [];
  for (const stored of storedUsers) {
    const user = keptUsers.get(stored.guid);
    if (!user) {
      if (stored.removed) continue;
      // Gone from the directory (or its scope): no roles, no sign-in, and its name is freed.
      counts.usersRemoved++;
      endSessions.push(stored.user_id);
      updates.push({
        id: stored.user_id,
        username: `${stored.username}~removed-${stored.guid.slice(0, 8)}`,
        displayName: stored.display_name,
        disabled: true,
        dn: stored.dn,
        upn: null,
        mail: stored.mail,
        usn: Number(stored.usn_changed),
        removed: true,
      });
      continue;
    }
    const upn = user.upn?.toLowerCase() ?? null;
    const changed =
      stored.removed ||
      stored.username !== user.username ||
      stored.display_name !== user.displayName ||
      stored.disabled !== user.disabled ||
      stored.dn !== user.dn ||
      stored.upn !== upn ||
      stored.mail !== user.mail;
    if (!changed) continue;
    counts.usersUpdated++;
    if (user.disabled && !stored.disabled) {
      counts.usersDisabled++;
      endSessions.push(stored.user_id);
    }
    updates.push({
      id: stored.user_id,
      username: user.username,
      displayName: user.displayName,
      disabled: user.disabled,
      dn: user.dn,
      upn,
      mail: user.mail,
      usn: user.usnChanged,
      removed: false,
    });
  }
  // Renames in two steps (first to a temporary name) so that swapped names never collide.
  const storedNameOf = new Map(storedUsers.map((u) => [u.user_id, u.username]));
  const renamed = updates.filter((u) => u.username !== storedNameOf.get(u.id));
  await inBatches(renamed, (slice) =>
    m.query(`UPDATE users SET username = '~sync-' || id::text WHERE id = ANY($1::uuid[])`, [slice.map((u) => u.id)]),
  );
  await inBatches(updates, async (slice) => {
    await m.query(
      `UPDATE users u SET username = v.username, display_name = v.display_name, disabled = v.disabled, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[]) AS v(id, username, display_name, disabled)
       WHERE u.id = v.id`,
      [
        slice.map((u) => u.id),
        slice.map((u) => u.username),
        slice.map((u) => u.displayName),
        slice.map((u) => u.disabled),
      ],
    );
    await m.query(
      `UPDATE directory_users d SET dn = v.dn, upn = v.upn, mail = v.mail, usn_changed = v.usn,
         removed_at = CASE WHEN v.removed THEN COALESCE(d.removed_at, now()) ELSE NULL END
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bool[])
         AS v(id, dn, upn, mail, usn, removed)
       WHERE d.user_id = v.id`,
      [
        slice.map((u) => u.id),
        slice.map((u) => u.dn),
        slice.map((u) => u.upn),
        slice.map((u) => u.mail),
        slice.map((u) => u.usn),
        slice.map((u) => u.removed),
      ],
    );
  });
  const added = [...keptUsers.values()].filter((u) => !storedByGuid.has(u.guid));
  counts.usersAdded = added.length;
  await inBatches(added, async (slice) => {
    const rows = await m.query<{ id: string; username: string }[]>(
      `INSERT INTO users (username, display_name, source, disabled)
       SELECT v.username, v.display_name, 'directory', v.disabled
       FROM unnest($1::text[], $2::text[], $3::bool[]) AS v(username, display_name, disabled)
       RETURNING id, username`,
      [slice.map((u) => u.username), slice.map((u) => u.displayName), slice.map((u) => u.disabled)],
    );
    const idByName = new Map(rows.map((r) => [r.username, r.id]));
    for (const u of slice) userIdOf.set(u.guid, idByName.get(u.username)!);
    await m.query(
      `INSERT INTO directory_users (user_id, guid, dn, upn, mail, usn_changed)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[])`,
      [
        slice.map((u) => userIdOf.get(u.guid)),
        slice.map((u) => u.guid),
        slice.map((u) => u.dn),
        slice.map((u) => u.upn?.toLowerCase() ?? null),
        slice.map((u) => u.mail),
        slice.map((u) => u.usnChanged),
      ],
    );
  });
  if (endSessions.length > 0) {
    await m.query('UPDATE sessions SET revoked_at = now() WHERE user_id = ANY($1::uuid[]) AND revoked_at IS NULL', [
      endSessions,
    ]);
  }

  // ---- groups
  const keptGroups = new Map<string, DirectoryGroup>();
  const groupNames = new Set<string>();
  for (const group of next.groups.values()) {
    // Group names are unique as spelled (the table's constraint); the policy files match them case-insensitively.
    const key = group.name;
    if (localGroupNames.has(key)) {
      counts.skipped.push(`group ${group.name}: a local group has this name (the local group keeps it)`);
      continue;
    }
    if (groupNames.has(key)) {
      counts.skipped.push(`group ${group.name}: another directory group has the same name`);
      continue;
    }
    groupNames.add(key);
    keptGroups.set(group.guid, group);
  }
  const groupIdOf = new Map(storedGroups.map((g) => [g.guid, g.group_id]));
  const goneGroups = storedGroups.filter((g) => !keptGroups.has(g.guid));
  counts.groupsRemoved = goneGroups.length;
  if (goneGroups.length > 0) {
    await m.query('DELETE FROM groups WHERE id = ANY($1::uuid[])', [goneGroups.map((g) => g.group_id)]);
  }
  const storedGroupByGuid = new Map(storedGroups.map((g) => [g.guid, g]));
  const groupUpdates = [...keptGroups.values()].filter((g) => {
    const s = storedGroupByGuid.get(g.guid);
    return (
      s &&
      (s.name !== g.name ||
        s.description !== g.description ||
        s.dn !== g.dn ||
        s.cn !== g.cn ||
        !sameArray(s.aliases, groupAliases(g)) ||
        !sameArray([...s.member_guids].sort(), [...g.memberGuids].sort()) ||
        Number(s.usn_changed) !== g.usnChanged)
    );
  });
  counts.groupsUpdated = groupUpdates.length;
  const renamedGroups = groupUpdates.filter((g) => storedGroupByGuid.get(g.guid)!.name !== g.name);
  if (renamedGroups.length > 0) {
    await m.query(`UPDATE groups SET name = '~sync-' || id::text WHERE id = ANY($1::uuid[])`, [
      renamedGroups.map((g) => groupIdOf.get(g.guid)),
    ]);
  }
  if (groupUpdates.length > 0) {
    const ids = groupUpdates.map((g) => groupIdOf.get(g.guid)!);
    await m.query(
      `UPDATE groups g SET name = v.name, description = v.description,
         aliases = ARRAY(SELECT jsonb_array_elements_text($4::jsonb -> g.id::text))
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, name, description)
       WHERE g.id = v.id`,
      [
        ids,
        groupUpdates.map((g) => g.name),
        groupUpdates.map((g) => g.description),
        JSON.stringify(Object.fromEntries(groupUpdates.map((g, i) => [ids[i], groupAliases(g)]))),
      ],
    );
    await m.query(
      `UPDATE directory_groups d SET dn = v.dn, cn = v.cn, usn_changed = v.usn,
         member_guids = ARRAY(SELECT jsonb_array_elements_text($5::jsonb -> d.group_id::text))::uuid[]
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[]) AS v(id, dn, cn, usn)
       WHERE d.group_id = v.id`,
      [
        ids,
        groupUpdates.map((g) => g.dn),
        groupUpdates.map((g) => g.cn),
        groupUpdates.map((g) => g.usnChanged),
        JSON.stringify(Object.fromEntries(groupUpdates.map((g, i) => [ids[i], g.memberGuids]))),
      ],
    );
  }
  const newGroups = [...keptGroups.values()].filter((g) => !storedGroupByGuid.has(g.guid));
  counts.groupsAdded = newGroups.length;
  if (newGroups.length > 0) {
    const rows = await m.query<{ id: string; name: string }[]>(
      `INSERT INTO groups (name, source, description, aliases)
       SELECT v.name, 'directory', v.description, ARRAY(SELECT jsonb_array_elements_text($3::jsonb -> v.name))
       FROM unnest($1::text[], $2::text[]) AS v(name, description)
       RETURNING id, name`,
      [
        newGroups.map((g) => g.name),
        newGroups.map((g) => g.description),
        JSON.stringify(Object.fromEntries(newGroups.map((g) => [g.name, groupAliases(g)]))),
      ],
    );
    const idByName = new Map(rows.map((r) => [r.name, r.id]));
    for (const g of newGroups) groupIdOf.set(g.guid, idByName.get(g.name)!);
    await m.query(
      `INSERT INTO directory_groups (group_id, guid, dn, cn, usn_changed, member_guids)
       SELECT v.id, v.guid, v.dn, v.cn, v.usn, ARRAY(SELECT jsonb_array_elements_text($6::jsonb -> v.guid::text))::uuid[]
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bigint[]) AS v(id, guid, dn, cn, usn)`,
      [
        newGroups.map((g) => groupIdOf.get(g.guid)),
        newGroups.map((g) => g.guid),
        newGroups.map((g) => g.dn),
        newGroups.map((g) => g.cn),
        newGroups.map((g) => g.usnChanged),
        JSON.stringify(Object.fromEntries(newGroups.map((g) => [g.guid, g.memberGuids]))),
      ],
    );
  }

  // ---- effective (nested) memberships of enabled users in kept groups
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
  const pairs = (keys: string[]) => [keys.map((k) => k.split(' ')[0]), keys.map((k) => k.split(' ')[1])];
  await inBatches(toRemove, (slice) =>
    m.query(
      `DELETE FROM group_members gm USING unnest($1::uuid[], $2::uuid[]) AS v(g, u)
       WHERE gm.group_id = v.g AND gm.user_id = v.u`,
      pairs(slice),
    ),
  );
  await inBatches(toAdd, (slice) =>
    m.query(
      `INSERT INTO group_members (group_id, user_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`,
      pairs(slice),
    ),
  );

  // ---- role changes, per person, under the policy set in force now (so only membership changes count)
  const identityOfGroup = new Map<string, GroupIdentity>();
  for (const r of memberships)
    identityOfGroup.set(r.group_id, { name: r.name, source: r.source as GroupIdentity['source'], aliases: r.aliases });
  for (const g of keptGroups.values()) {
    identityOfGroup.set(groupIdOf.get(g.guid)!, { name: g.name, source: 'directory', aliases: groupAliases(g) });
  }
  const before = new Map<string, string[]>();
  for (const r of memberships) before.set(r.user_id, [...(before.get(r.user_id) ?? []), r.group_id]);
  const after = new Map<string, string[]>();
  for (const r of memberships) {
    if (!directoryGroupIds.has(r.group_id)) after.set(r.user_id, [...(after.get(r.user_id) ?? []), r.group_id]);
  }
  for (const key of desired) {
    const [groupId, userId] = key.split(' ');
    after.set(userId, [...(after.get(userId) ?? []), groupId]);
  }
  const usernameOf = new Map<string, string>();
  for (const s of storedUsers) usernameOf.set(s.user_id, s.username);
  for (const u of keptUsers.values()) usernameOf.set(userIdOf.get(u.guid)!, u.username);
  const roleEvents: AuditEvent['details'][] = [];
  const touched = new Set([...before.keys(), ...after.keys()]);
  for (const userId of touched) {
    const rolesOf = (ids: string[] | undefined) =>
      describeGrants(grantsFor((ids ?? []).map((id) => identityOfGroup.get(id)).filter((g) => g !== undefined)));
    const b = rolesOf(before.get(userId));
    const a = rolesOf(after.get(userId));
    const gained = a.filter((r) => !b.includes(r));
    const lost = b.filter((r) => !a.includes(r));
    if (gained.length === 0 && lost.length === 0) continue;
    roleEvents.push({ username: usernameOf.get(userId) ?? userId, gained, lost });
  }
  counts.roleChanges = roleEvents.length;
  return { counts, roleEvents };
}
