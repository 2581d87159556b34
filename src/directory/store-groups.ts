import type { EntityManager } from 'typeorm';
import * as accounts from '../users/directory-accounts.js';
import type { DirectoryGroup, DirectorySnapshot } from './directory-model.js';
import { groupAliases, sameArray, withoutNameClashes, type StoredGroup, type SyncCounts } from './store-common.js';

/** Writes the snapshot's groups (with their direct members and aliases); missing ones are deleted. */
export async function writeGroups(m: EntityManager, next: DirectorySnapshot, counts: SyncCounts) {
  const storedGroups = await m.query<StoredGroup[]>(
    `SELECT dg.group_id, dg.guid, g.name, g.description, g.aliases, dg.dn, dg.cn, dg.member_guids, dg.usn_changed
     FROM directory_groups dg JOIN groups g ON g.id = dg.group_id`,
  );
  // The policy files name groups case-insensitively, and a directory group also by its CN or
  // DN: a directory group answering to a local group's name in any of those ways would hand
  // the local group's roles to directory-managed members, so it is skipped.
  const localGroupNames = new Set((await accounts.localGroupNames(m)).map((name) => name.toLowerCase()));
  const keptGroups = new Map<string, DirectoryGroup>(
    withoutNameClashes(
      next.groups.values(),
      'group',
      localGroupNames,
      // Group names are unique as spelled (the table's constraint); the policy files match them case-insensitively.
      { label: (g) => g.name, key: (g) => g.name, names: (g) => [g.name.toLowerCase(), ...groupAliases(g)] },
      counts.skipped,
    ).map((group) => [group.guid, group]),
  );
  const groupIdOf = new Map(storedGroups.map((g) => [g.guid, g.group_id]));
  const goneGroups = storedGroups.filter((g) => !keptGroups.has(g.guid));
  counts.groupsRemoved = goneGroups.length;
  await accounts.deleteGroups(
    m,
    goneGroups.map((g) => g.group_id),
  );
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
  await accounts.parkGroupNames(
    m,
    renamedGroups.map((g) => groupIdOf.get(g.guid)!),
  );
  if (groupUpdates.length > 0) {
    const ids = groupUpdates.map((g) => groupIdOf.get(g.guid)!);
    await accounts.updateDirectoryGroups(
      m,
      groupUpdates.map((g, i) => ({ id: ids[i], name: g.name, description: g.description, aliases: groupAliases(g) })),
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
    const idByName = await accounts.insertDirectoryGroups(
      m,
      newGroups.map((g) => ({ name: g.name, description: g.description, aliases: groupAliases(g) })),
    );
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

  return { storedGroups, keptGroups, groupIdOf, goneGroups };
}
