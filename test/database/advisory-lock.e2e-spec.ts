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

  it('left in an aborted transaction: rolled back and unlocked, so the next sync may run at once', async () => {
    const lease = await acquireSyncLease(database.dataSource, false);
    expect(await syncRunning(database.dataSource, false)).toBe(true);
    // A failed statement inside a transaction nobody rolled back: a plain unlock fails there.
    await lease.manager.query('BEGIN');
    await expect(lease.manager.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    await lease.release();
    expect(await syncRunning(database.dataSource, false)).toBe(false);
    const next = await acquireSyncLease(database.dataSource, false);
    await next.release();
  });

  it('on a broken connection: released without an error, the connection not pooled again', async () => {
    const lease = await acquireSyncLease(database.dataSource, false);
    const [{ pid }] = await lease.manager.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
    // Waits (up to 5 s) until that backend is gone, and its lock with it.
    await database.dataSource.query('SELECT pg_terminate_backend($1, 5000)', [pid]);
    await lease.release();
    expect(await syncRunning(database.dataSource, false)).toBe(false);
    const next = await acquireSyncLease(database.dataSource, false);
    await next.release();
    // Every pooled connection still answers (a broken one would fail here).
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => database.dataSource.query<{ one: number }[]>('SELECT 1 AS one')),
    );
    expect(answers.every((rows) => rows[0].one === 1)).toBe(true);
  });
});
