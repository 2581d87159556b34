import type { EntityManager } from 'typeorm';
import * as accounts from '../users/directory-accounts.js';
import type { DirectorySnapshot, DirectoryUser } from './directory-model.js';
import { inBatches, withoutNameClashes, type EndSessions, type StoredUser, type SyncCounts } from './store-common.js';

export type KeptUser = DirectoryUser & { username: string };

/**
 * Writes the snapshot's users: new ones added, changed ones updated (renames keep the row: the
 * identity is the objectGUID), missing ones removed (disabled, name freed, sessions ended).
 */
export async function writeUsers(
  m: EntityManager,
  next: DirectorySnapshot,
  counts: SyncCounts,
  endSessions: EndSessions,
) {
  const storedUsers = await m.query<StoredUser[]>(
    `SELECT du.user_id, du.guid, u.username, u.display_name, u.disabled, du.directory_disabled, du.dn, du.upn, du.mail,
            du.usn_changed, du.removed_at IS NOT NULL AS removed
     FROM directory_users du JOIN users u ON u.id = du.user_id`,
  );
  const localUserNames = new Set(await accounts.localUserNames(m));
  // Of two accounts sharing a name, the one changed longest ago (lowest uSNChanged) keeps it.
  const keptUsers = new Map<string, KeptUser>(
    withoutNameClashes(
      [...next.users.values()].sort((a, b) => a.usnChanged - b.usnChanged),
      'user',
      localUserNames,
      { label: (u) => u.account, key: (u) => u.account.toLowerCase(), names: (u) => [u.account.toLowerCase()] },
      counts.skipped,
    ).map((user) => [user.guid, { ...user, username: user.account.toLowerCase() }]),
  );
  const storedByGuid = new Map(storedUsers.map((u) => [u.guid, u]));
  const userIdOf = new Map(storedUsers.map((u) => [u.guid, u.user_id]));
  const updates: {
    id: string;
    username: string;
    displayName: string;
    disabled: boolean;
    directoryDisabled: boolean;
    dn: string;
    upn: string | null;
    mail: string | null;
    usn: number;
    removed: boolean;
  }[] = [];
  const sessionsToEnd: string[] = [];
  for (const stored of storedUsers) {
    const user = keptUsers.get(stored.guid);
    if (!user) {
      if (stored.removed) continue;
      // Gone from the directory (or its scope): no roles, no sign-in, and its name is freed.
      counts.usersRemoved++;
      sessionsToEnd.push(stored.user_id);
      updates.push({
        id: stored.user_id,
        username: `${stored.username}~removed-${stored.guid.slice(0, 8)}`,
        displayName: stored.display_name,
        disabled: true,
        directoryDisabled: stored.directory_disabled,
        dn: stored.dn,
        upn: null,
        mail: stored.mail,
        usn: Number(stored.usn_changed),
        removed: true,
      });
      continue;
    }
    const upn = user.upn?.toLowerCase() ?? null;
    // INVARIANT: a Gatehouse administrator's disable outlives syncs; only the directory's own flag follows AD.
    const disabledInGatehouse = !stored.removed && stored.disabled && !stored.directory_disabled;
    const disabled = user.disabled || disabledInGatehouse;
    const changed =
      stored.removed ||
      stored.username !== user.username ||
      stored.display_name !== user.displayName ||
      stored.disabled !== disabled ||
      stored.directory_disabled !== user.disabled ||
      stored.dn !== user.dn ||
      stored.upn !== upn ||
      stored.mail !== user.mail;
    if (!changed) continue;
    counts.usersUpdated++;
    if (disabled && !stored.disabled) {
      counts.usersDisabled++;
      sessionsToEnd.push(stored.user_id);
    }
    updates.push({
      id: stored.user_id,
      username: user.username,
      displayName: user.displayName,
      disabled,
      directoryDisabled: user.disabled,
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
    accounts.parkUserNames(
      m,
      slice.map((u) => u.id),
    ),
  );
  await inBatches(updates, async (slice) => {
    await accounts.updateDirectoryUsers(m, slice);
    await m.query(
      `UPDATE directory_users d SET dn = v.dn, upn = v.upn, mail = v.mail, usn_changed = v.usn,
         directory_disabled = v.directory_disabled,
         removed_at = CASE WHEN v.removed THEN COALESCE(d.removed_at, now()) ELSE NULL END
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bool[], $7::bool[])
         AS v(id, dn, upn, mail, usn, removed, directory_disabled)
       WHERE d.user_id = v.id`,
      [
        slice.map((u) => u.id),
        slice.map((u) => u.dn),
        slice.map((u) => u.upn),
        slice.map((u) => u.mail),
        slice.map((u) => u.usn),
        slice.map((u) => u.removed),
        slice.map((u) => u.directoryDisabled),
      ],
    );
  });
  const added = [...keptUsers.values()].filter((u) => !storedByGuid.has(u.guid));
  counts.usersAdded = added.length;
  await inBatches(added, async (slice) => {
    const idByName = await accounts.insertDirectoryUsers(m, slice);
    for (const u of slice) userIdOf.set(u.guid, idByName.get(u.username)!);
    await m.query(
      `INSERT INTO directory_users (user_id, guid, dn, upn, mail, usn_changed, directory_disabled)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bool[])`,
      [
        slice.map((u) => userIdOf.get(u.guid)),
        slice.map((u) => u.guid),
        slice.map((u) => u.dn),
        slice.map((u) => u.upn?.toLowerCase() ?? null),
        slice.map((u) => u.mail),
        slice.map((u) => u.usnChanged),
        slice.map((u) => u.disabled),
      ],
    );
  });
  await endSessions(m, sessionsToEnd);

  return { storedUsers, keptUsers, userIdOf };
}
