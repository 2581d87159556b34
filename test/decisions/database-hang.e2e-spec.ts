import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-db.js';

const DATABASE_TIMEOUT_MS = 1500;
/** The bound: a hung database answers 503 within this. */
const ANSWER_WITHIN_MS = 5000;

/** POSTs a decision; the client gives up at the bound, so a hang fails the test instead of waiting it out. */
async function decideTimed(baseUrl: string, credential: string, body: Record<string, unknown>) {
  const started = performance.now();
  const res = await fetch(`${baseUrl}/api/v1/agent/decisions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  return { status: res.status, body: await res.json(), ms: performance.now() - started };
}

/** Waits (bounded) until readiness says ready again: the database moves bytes again. */
async function untilReady(baseUrl: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await api(baseUrl, 'GET', '/health/ready')).status === 200) return;
  }
  throw new Error('not ready again after the database came back');
}

describe('PostgreSQL reachable but silent (a frozen network)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  let credential: string;
  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') throw new Error('This test needs PostgreSQL to put a proxy in front of');
    db = await createTestDatabase();
    const direct = new URL(db.env.DATABASE_URL);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    t = await startTestApp({
      db: { ...db, env: { DATABASE_URL: viaProxy.toString() } },
      env: { DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS), DATABASE_POOL_SIZE: '4' },
    });
    credential = await enrollDevice(t.baseUrl, await login(t.baseUrl), { deviceId: 'ct-1', model: 'SOMATOM X' });
  });
  afterAll(async () => {
    proxy?.thaw();
    await t?.close();
    await proxy?.close();
    await db?.dispose();
  });

  it('answers 503 within 5 s, and allows nothing unrecorded: a refused decision is never recorded, or recorded and audited', async () => {
    const before = await decideTimed(t.baseUrl, credential, decisionBody({ action: 'log-upload' }));
    expect([before.status, before.body.decision]).toEqual([200, 'allow']);

    proxy.freeze();
    // In flight when it freezes: its commit may still land once the bytes move again.
    const inFlight = decisionBody({ action: 'log-upload' });
    const first = await decideTimed(t.baseUrl, credential, inFlight);
    expect([first.status, first.body.error?.code]).toEqual([503, 'unavailable']);
    expect(first.ms).toBeLessThan(ANSWER_WITHIN_MS);
    // A second one during the freeze: decisions commit up to PARALLEL_COMMITS at once (issue
    // 16), so it may be sent on another pooled connection and hang too, or wait for a
    // connection that never comes and be dropped unsent (GroupCommitter drops an item at its
    // deadline when it was not sent: src/common/group-commit.spec.ts). Either way it is 503.
    const queued = decisionBody({ action: 'log-upload' });
    const second = await decideTimed(t.baseUrl, credential, queued);
    expect([second.status, second.body.error?.code]).toEqual([503, 'unavailable']);
    expect(second.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect((await api(t.baseUrl, 'GET', '/health/ready')).status).toBe(503);

    proxy.thaw();
    await untilReady(t.baseUrl);
    const read = (id: string) => api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${id}`, { token: credential });
    // Each of the two either never landed, or landed late: then it is durable and audited like
    // any other decision, and only then may a retry read it as allow.
    const audited = async () =>
      (
        await api(t.baseUrl, 'GET', `/api/v1/audit?eventType=decision&limit=500`, { token: await login(t.baseUrl) })
      ).body.items.map((r: { requestId: string }) => r.requestId);
    for (const refused of [inFlight, queued]) {
      const late = await read(refused.requestId);
      if (late.status === 200) expect(await audited()).toContain(refused.requestId);
      else expect(late.status).toBe(404);
    }
    const after = await decideTimed(t.baseUrl, credential, decisionBody({ action: 'log-upload' }));
    expect([after.status, after.body.decision]).toEqual([200, 'allow']);
  }, 60_000);

  it('keeps the database error text out of the anonymous readiness answer, and logs it', async () => {
    await proxy.stop(); // every connection to PostgreSQL drops, new ones are refused
    try {
      const ready = await api(t.baseUrl, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.details).toContainEqual({ field: 'database', problem: 'unreachable' });
      expect(t.logs.some((l) => l.includes('Readiness: the database is unreachable: '))).toBe(true);
    } finally {
      await proxy.start();
    }
    await untilReady(t.baseUrl);
  }, 30_000);
});
