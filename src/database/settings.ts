import type { DataSource, EntityManager } from 'typeorm';

/**
 * The settings table: small JSON values by key (the token signing key, the setup token's hash,
 * the directory sync's status and cursor). The database module owns it; each module keeps
 * its own keys and reads and writes them through these, in its own transaction when it passes one.
 */
type Db = DataSource | EntityManager;

export async function readSetting<T>(db: Db, key: string): Promise<T | null> {
  const rows = await db.query<{ value: T }[]>('SELECT value FROM settings WHERE key = $1', [key]);
  return rows[0]?.value ?? null;
}

/**
 * Reads a key's value and locks its row until the caller's transaction ends (a job that keeps
 * its place in a key reads and moves it in one transaction); null if the key has none.
 */
export async function readSettingForUpdate<T>(m: EntityManager, key: string): Promise<T | null> {
  const rows = await m.query<{ value: T }[]>('SELECT value FROM settings WHERE key = $1 FOR UPDATE', [key]);
  return rows[0]?.value ?? null;
}

export async function writeSetting(db: Db, key: string, value: unknown): Promise<void> {
  await db.query(
    `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [key, JSON.stringify(value)],
  );
}

/** Stores the value unless the key has one (replicas starting together keep the first). */
export async function writeSettingOnce(db: Db, key: string, value: unknown): Promise<void> {
  await db.query('INSERT INTO settings (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO NOTHING', [
    key,
    JSON.stringify(value),
  ]);
}

export async function deleteSetting(db: Db, key: string): Promise<void> {
  await db.query('DELETE FROM settings WHERE key = $1', [key]);
}
