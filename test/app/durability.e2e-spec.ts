import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { adminQuery } from '../support/test-db.js';
import { createTestDatabase, testDatabaseKind } from '../support/test-db.js';

describe('durability of PostgreSQL', () => {
  it('refuses to start on a server that may lose commits, unless told it is a lab', async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error(
        'This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432); the embedded one has no such setting',
      );
    }
    const db = await createTestDatabase();
    try {
      const name = new URL(db.env.DATABASE_URL).pathname.slice(1);
      await adminQuery(`ALTER DATABASE ${name} SET synchronous_commit = off`);
      await expect(Database.open(loadConfig(db.env))).rejects.toThrow(
        /synchronous_commit=off.*GATEHOUSE_ALLOW_UNSAFE_DURABILITY/,
      );
      const lab = await Database.open(loadConfig({ ...db.env, GATEHOUSE_ALLOW_UNSAFE_DURABILITY: 'true' }));
      await lab.close();
      await adminQuery(`ALTER DATABASE ${name} SET synchronous_commit = on`);
      const safe = await Database.open(loadConfig(db.env));
      await safe.close();
    } finally {
      await db.dispose();
    }
  });

  it('names the database it cannot reach', async () => {
    await expect(Database.open(loadConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }))).rejects.toThrow(
      /Cannot connect to the database at DATABASE_URL/,
    );
  });
});
