import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { adminQuery, testDatabaseKind } from '../support/test-db.js';

/** Waits for a log line (bounded: 10 s), rather than sleeping a guessed time. */
async function untilLogged(t: TestApp, text: string): Promise<boolean> {
  const giveUpAt = performance.now() + 10_000;
  while (performance.now() < giveUpAt) {
    if (t.logs.some((l) => l.includes(text))) return true;
    await new Promise((r) => setImmediate(r));
    await api(t.baseUrl, 'GET', '/health/live');
  }
  return false;
}

describe('PostgreSQL ends the idle connections of a running Gatehouse', () => {
  let t: TestApp;
  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') throw new Error('This test needs PostgreSQL to terminate backends on');
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('logs each lost connection, does not crash, and serves again on new connections', async () => {
    await login(t.baseUrl); // the pool holds idle connections now
    const database = new URL(t.db.env.DATABASE_URL).pathname.slice(1);
    const ended = await adminQuery<{ pid: number }>(
      // OFFSET 0 keeps the filter ahead of the terminate (it could otherwise end any backend).
      `SELECT pid, pg_terminate_backend(pid) FROM
         (SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() OFFSET 0) mine`,
      [database],
    );
    expect(ended.length).toBeGreaterThan(1); // the pool's and the LISTEN connection
    expect(await untilLogged(t, 'An idle database connection failed and was dropped (57P01)')).toBe(true);
    expect(await untilLogged(t, 'Notification connection lost')).toBe(true);
    expect((await api(t.baseUrl, 'GET', '/health/ready')).status).toBe(200);
    expect((await api(t.baseUrl, 'GET', '/api/v1/users', { token: await login(t.baseUrl) })).status).toBe(200);
  });
});
