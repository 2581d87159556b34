/**
 * A directory sync on the embedded database (one process, one connection): while the
 * directory is read (slowly, through a delaying proxy), sign-ins, decisions and the status
 * keep answering, and the sync then applies.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { DirectoryArea, pipelined } from '../support/directory-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { api, ADMIN_PASSWORD, login, startTestApp, type TestApp } from '../support/test-app.js';
import { createEmbeddedTestDatabase, type TestDatabase } from '../support/test-db.js';

describe('directory sync on the embedded database', () => {
  let area: DirectoryArea;
  let proxy: TcpProxy;
  let db: TestDatabase;
  let t: TestApp;
  const tag = Math.random().toString(36).slice(2, 6);

  beforeAll(async () => {
    area = await DirectoryArea.create('emb');
    await pipelined(
      Array.from({ length: 200 }, (_, i) => i),
      (i) => area.addUser({ sam: `e${tag}${i}` }),
    );
    proxy = await startTcpProxy({ host: area.dc.host, port: 636 });
    db = createEmbeddedTestDatabase();
    t = await startTestApp({
      db,
      env: area.env({ LDAP_URL: `ldaps://127.0.0.1:${proxy.port}`, LDAP_PAGE_SIZE: '20' }),
    });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await db?.dispose();
    await proxy?.close();
    await area?.dispose();
  });

  it('keeps sign-in, decisions and the status answering while the directory is read', async () => {
    const admin = await login(t.baseUrl);
    const ct = await enrollDevice(t.baseUrl, admin, { deviceId: `ct-emb-${tag}`, model: 'SOMATOM X.cite' });
    proxy.setDelay(150); // every page of 20 users waits: the read takes seconds
    const started = await api(t.baseUrl, 'POST', '/api/v1/directory/sync', { token: admin, body: { kind: 'full' } });
    expect(started.status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    const during: number[] = [];
    const timed = async <T>(call: () => Promise<T>) => {
      const t0 = Date.now();
      const result = await call();
      during.push(Date.now() - t0);
      return result;
    };
    const status = await timed(() => api(t.baseUrl, 'GET', '/api/v1/directory/status', { token: admin }));
    expect(status.body.running).not.toBeNull(); // still reading
    expect(await timed(() => login(t.baseUrl, 'admin', ADMIN_PASSWORD))).toEqual(expect.any(String));
    const decided = await timed(() =>
      api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body: decisionBody({ action: 'log-upload' }) }),
    );
    expect(decided.status).toBe(200);
    expect(Math.max(...during)).toBeLessThan(3000); // not queued behind the sync (the pool waits 10 s)

    proxy.setDelay(0);
    let last;
    for (let i = 0; i < 300; i++) {
      last = (await api(t.baseUrl, 'GET', '/api/v1/directory/status', { token: admin })).body;
      if (!last.running && last.lastRun) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last.lastRun).toMatchObject({ outcome: 'success', kind: 'full', counts: { usersAdded: 200 } });
  }, 120_000);
});
