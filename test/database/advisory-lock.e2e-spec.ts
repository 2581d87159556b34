import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { acquireSyncLease, syncRunning } from '../../src/directory/sync-lease.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-db.js';

// Session advisory locks live as long as the connection: one that could not be unlocked
// must not go back to the pool still holding it (every other replica would be refused).
describe('a session lock that cannot be released', () => {
  let db: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error(
        'This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432); the embedded one takes no advisory locks',
      );
    }
    db = await createTestDatabase('postgres');
    database = await Database.open(loadConfig({ ...db.env, LOG_LEVEL: 'silent' }), { migrate: false });
  });
  afterAll(async () => {
    await database?.close();
    await db?.dispose();
  });

  it('closes its connection, so the lock is gone and the next sync may run', async () => {
    const lease = await acquireSyncLease(database.dataSource, false);
    expect(await syncRunning(database.dataSource, false)).toBe(true);
    // A failed statement inside a transaction nobody rolled back: the unlock fails too.
    await lease.manager.query('BEGIN');
    await expect(lease.manager.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    await lease.release();
    expect(await syncRunning(database.dataSource, false)).toBe(false);
    const next = await acquireSyncLease(database.dataSource, false);
    await next.release();
  });
});
