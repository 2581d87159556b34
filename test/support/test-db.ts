import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where the test PostgreSQL is: TEST_DATABASE_URL, or the machine's own on 127.0.0.1:5432. */
export const TEST_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function urlFor(database: string): string {
  const url = new URL(TEST_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function adminQuery<T = unknown>(sql: string, params: unknown[] = [], url = TEST_ADMIN_URL): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  // A backend terminated between queries emits 'error' on the client: without a listener, that
  // ends the whole jest worker. The query in flight (if any) still rejects with it.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The database a test file gets: environment overrides for loadConfig, and a way to drop it. */
export interface TestDatabase {
  kind: 'postgres' | 'embedded';
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** Which database the globalSetup found: the machine's PostgreSQL, or (without one) the embedded PGlite. */
export function testDatabaseKind(): 'postgres' | 'embedded' {
  return process.env.GATEHOUSE_TEST_TEMPLATE ? 'postgres' : 'embedded';
}

/**
 * A fresh database for one test: on PostgreSQL a copy of the migrated template (fast),
 * else a new embedded PGlite data directory.
 */
export async function createTestDatabase(kind = testDatabaseKind()): Promise<TestDatabase> {
  if (kind === 'embedded') return createEmbeddedTestDatabase();
  const template = process.env.GATEHOUSE_TEST_TEMPLATE;
  if (!template) throw new Error('No PostgreSQL template: run the tests through `npm test` (jest globalSetup)');
  const name = `gatehouse_test_${process.env.GATEHOUSE_TEST_RUN ?? '0'}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  return {
    kind: 'postgres',
    env: { DATABASE_URL: urlFor(name) },
    dispose: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export function createEmbeddedTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pglite-'));
  return {
    kind: 'embedded',
    env: { GATEHOUSE_DATA_DIR: dir },
    dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}
