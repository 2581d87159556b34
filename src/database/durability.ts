import type { DataSource } from 'typeorm';

export class UnsafeDurabilityError extends Error {}

/**
 * An acknowledged decision must survive a crash of PostgreSQL, so Gatehouse refuses a
 * server that may lose committed transactions (fsync or synchronous_commit off).
 * Returns the problems found; throws unless the operator explicitly accepted them.
 */
export async function checkDurability(dataSource: DataSource, allowUnsafe: boolean): Promise<string[]> {
  const rows = await dataSource.query<{ name: string; setting: string }[]>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')`,
  );
  const problems = rows
    .filter((r) => r.setting === 'off')
    .map((r) => `PostgreSQL has ${r.name}=off: committed audit records could be lost in a crash`);
  if (problems.length > 0 && !allowUnsafe) {
    throw new UnsafeDurabilityError(
      `${problems.join('; ')}. Turn ${rows.map((r) => r.name).join(' and ')} on in postgresql.conf, ` +
        'or set GATEHOUSE_ALLOW_UNSAFE_DURABILITY=true for a lab set-up.',
    );
  }
  return problems;
}
