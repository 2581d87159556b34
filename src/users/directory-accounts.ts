import type { EntityManager } from 'typeorm';

/**
 * The writes a directory sync makes to the users module's tables (users, groups,
 * group_members), in bulk and in the sync's transaction (`m`): users owns these tables, so the
 * directory module calls these instead of writing them. Each takes one batch (store-common's
 * inBatches sizes them) and is one statement.
 */

/** Names of the people who are not the directory's (a synced name must not take one). */
export async function localUserNames(m: EntityManager): Promise<string[]> {
  const rows = await m.query<{ username: string }[]>(`SELECT username FROM users WHERE source <> 'directory'`);
  return rows.map((r) => r.username);
}

/** Names of the groups that are not the directory's. */
export async function localGroupNames(m: EntityManager): Promise<string[]> {
  const rows = await m.query<{ name: string }[]>(`SELECT name FROM groups WHERE source <> 'directory'`);
  return rows.map((r) => r.name);
}

/** First step of a rename: a temporary name each, so that swapped names never collide. */
export async function parkUserNames(m: EntityManager, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await m.query(`UPDATE users SET username = '~sync-' || id::text WHERE id = ANY($1::uuid[])`, [ids]);
}

export async function updateDirectoryUsers(
  m: EntityManager,
  rows: { id: string; username: string; displayName: string; disabled: boolean }[],
): Promise<void> {
  if (rows.length === 0) return;
  await m.query(
    `UPDATE users u SET username = v.username, display_name = v.display_name, disabled = v.disabled, updated_at = now()
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[]) AS v(id, username, display_name, disabled)
     WHERE u.id = v.id`,
    [rows.map((u) => u.id), rows.map((u) => u.username), rows.map((u) => u.displayName), rows.map((u) => u.disabled)],
  );
}

/** Adds directory people; returns their ids by user name. */
export async function insertDirectoryUsers(
  m: EntityManager,
  rows: { username: string; displayName: string; disabled: boolean }[],
): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map();
  const inserted = await m.query<{ id: string; username: string }[]>(
    `INSERT INTO users (username, display_name, source, disabled)
     SELECT v.username, v.display_name, 'directory', v.disabled
     FROM unnest($1::text[], $2::text[], $3::bool[]) AS v(username, display_name, disabled)
     RETURNING id, username`,
    [rows.map((u) => u.username), rows.map((u) => u.displayName), rows.map((u) => u.disabled)],
  );
  return new Map(inserted.map((r) => [r.username, r.id]));
}

export async function deleteGroups(m: EntityManager, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await m.query('DELETE FROM groups WHERE id = ANY($1::uuid[])', [ids]);
}

/** First step of a rename: a temporary name each, so that swapped names never collide. */
export async function parkGroupNames(m: EntityManager, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await m.query(`UPDATE groups SET name = '~sync-' || id::text WHERE id = ANY($1::uuid[])`, [ids]);
}

export async function updateDirectoryGroups(
  m: EntityManager,
  rows: { id: string; name: string; description: string | null; aliases: string[] }[],
): Promise<void> {
  if (rows.length === 0) return;
  await m.query(
    `UPDATE groups g SET name = v.name, description = v.description,
       aliases = ARRAY(SELECT jsonb_array_elements_text($4::jsonb -> g.id::text))
     FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, name, description)
     WHERE g.id = v.id`,
    [
      rows.map((g) => g.id),
      rows.map((g) => g.name),
      rows.map((g) => g.description),
      JSON.stringify(Object.fromEntries(rows.map((g) => [g.id, g.aliases]))),
    ],
  );
}

/** Adds directory groups; returns their ids by name. */
export async function insertDirectoryGroups(
  m: EntityManager,
  rows: { name: string; description: string | null; aliases: string[] }[],
): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map();
  const inserted = await m.query<{ id: string; name: string }[]>(
    `INSERT INTO groups (name, source, description, aliases)
     SELECT v.name, 'directory', v.description, ARRAY(SELECT jsonb_array_elements_text($3::jsonb -> v.name))
     FROM unnest($1::text[], $2::text[]) AS v(name, description)
     RETURNING id, name`,
    [
      rows.map((g) => g.name),
      rows.map((g) => g.description),
      JSON.stringify(Object.fromEntries(rows.map((g) => [g.name, g.aliases]))),
    ],
  );
  return new Map(inserted.map((r) => [r.name, r.id]));
}

export async function removeMemberships(m: EntityManager, groupIds: string[], userIds: string[]): Promise<void> {
  if (groupIds.length === 0) return;
  await m.query(
    `DELETE FROM group_members gm USING unnest($1::uuid[], $2::uuid[]) AS v(g, u)
     WHERE gm.group_id = v.g AND gm.user_id = v.u`,
    [groupIds, userIds],
  );
}

export async function addMemberships(m: EntityManager, groupIds: string[], userIds: string[]): Promise<void> {
  if (groupIds.length === 0) return;
  await m.query(
    `INSERT INTO group_members (group_id, user_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING`,
    [groupIds, userIds],
  );
}
