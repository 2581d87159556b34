import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createEmbeddedTestDatabase, adminQuery, createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

/** Each statement a database owner could use to rewrite the audit trail. */
const TAMPERING = (table: string) => [
  `DELETE FROM ${table}`,
  `UPDATE ${table} SET hash = hash`,
  `TRUNCATE ${table}`,
  `ALTER TABLE ${table} DISABLE TRIGGER USER`,
];

async function expectRefused(query: (sql: string) => Promise<unknown>) {
  for (const table of ['audit_records', 'audit_checkpoints']) {
    for (const sql of TAMPERING(table)) {
      // The privilege check, not the append-only trigger: the role may not even switch triggers off.
      await expect(query(sql)).rejects.toThrow(/permission denied|must be owner/);
    }
  }
}

describe('the server on a PostgreSQL role that does not own the audit tables', () => {
  const role = `gatehouse_srv_${randomBytes(4).toString('hex')}`;
  let db: TestDatabase;
  let t: TestApp;
  let serverUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    const url = new URL(db.env.DATABASE_URL);
    url.username = role;
    serverUrl = url.toString();
    // The test database belongs to the superuser the tests connect as: it migrates, the role serves.
    t = await startTestApp({ db, env: { DATABASE_URL: serverUrl, DATABASE_MIGRATION_URL: db.env.DATABASE_URL } });
  });
  afterAll(async () => {
    await t?.close();
    await db?.dispose();
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  });

  it('works: sign-in, records, a checkpoint and verification, all as that role', async () => {
    expect((await t.database.dataSource.query('SELECT current_user AS u'))[0].u).toBe(role);
    const token = await login(t.baseUrl);
    expect((await api(t.baseUrl, 'POST', '/api/v1/audit/checkpoints', { token })).status).toBe(200);
    expect((await api(t.baseUrl, 'GET', '/api/v1/audit/verify', { token })).body).toMatchObject({ ok: true });
  });

  it('cannot DELETE, UPDATE, TRUNCATE or ALTER TABLE … DISABLE TRIGGER on the audit tables', async () => {
    await expectRefused((sql) => t.database.dataSource.query(sql));
    const client = new pg.Client({ connectionString: serverUrl }); // the same role from outside the app
    await client.connect();
    try {
      await expectRefused((sql) => client.query(sql));
    } finally {
      await client.end();
    }
  });
});

describe('the embedded database', () => {
  it('serves as gatehouse_server after migrating, which cannot change the audit tables', async () => {
    const t = await startTestApp({ db: createEmbeddedTestDatabase() });
    try {
      const [who] = await t.database.dataSource.query('SELECT current_user AS u');
      expect(who.u).toBe('gatehouse_server');
      await login(t.baseUrl);
      await expectRefused((sql) => t.database.dataSource.query(sql));
    } finally {
      await t.close();
      await t.db.dispose();
    }
    // Migrating a new PGlite database takes 15-55 s on this shared machine.
  }, 120_000);
});
