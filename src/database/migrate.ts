import type { DataSource } from 'typeorm';
import { releaseSessionLock } from './advisory-lock.js';

// Any fixed number: replicas starting together take turns to migrate.
const MIGRATION_LOCK_KEY = 0x6761_7465; // "gate"

/**
 * Runs pending migrations while holding an advisory lock, so that replicas starting at
 * once do not race. The embedded database has one process and one connection (the lock
 * would hold the connection the migrations need), so it migrates without the lock.
 */
export async function runMigrations(dataSource: DataSource, options: { lock: boolean }): Promise<string[]> {
  if (!options.lock) return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await releaseSessionLock(runner, MIGRATION_LOCK_KEY);
  }
}

/** The SQL that `migration:generate` would write; empty when migrations and entities agree. */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const log = await dataSource.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}
