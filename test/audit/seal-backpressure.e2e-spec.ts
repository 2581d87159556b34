import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { verifyAuditChain } from '../../src/audit/audit-verifier.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { SEAL_BACKPRESSURE_MS } from '../../src/audit/sealer/audit-sealer.js';
import { GatehouseMetrics } from '../../src/metrics/gatehouse-metrics.js';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-db.js';

// Issue 16: a decision's record is in the chain within SEAL_LAG_BOUND_MS. When the sealer cannot
// keep up, decisions wait for it (up to their deadline, then 503) instead of the trail falling
// behind. The sealer is overloaded deterministically: another connection holds the chain's
// advisory lock (migration AuditInbox), so no round can seal.

const DATABASE_TIMEOUT_MS = 1000;
/** The chain's advisory lock (audit_seal, audit_append). */
const CHAIN_LOCK = 1635083369;

async function decideTimed(baseUrl: string, credential: string) {
  const body = decisionBody({ action: 'log-upload' });
  const started = performance.now();
  const res = await api(baseUrl, 'POST', '/api/v1/agent/decisions', { token: credential, body });
  return { requestId: body.requestId, status: res.status, body: res.body, ms: performance.now() - started };
}

describe('seal lag back-pressure (PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let credential: string;
  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres')
      throw new Error('This test needs PostgreSQL (a second connection holds the lock)');
    db = await createTestDatabase('postgres');
    t = await startTestApp({ db, env: { DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS) } });
    credential = await enrollDevice(t.baseUrl, await login(t.baseUrl), { deviceId: 'ct-1', model: 'SOMATOM X' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.dispose();
  });

  it('decisions wait while the sealer cannot seal, answer 503 within their deadline, and succeed once it seals again', async () => {
    const answered: string[] = [];
    const first = await decideTimed(t.baseUrl, credential);
    expect(first.status).toBe(200);
    answered.push(first.requestId);
    await t.app.get(AuditService).sealPending();
    const inbox = async () =>
      (await t.database.dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM audit_inbox'))[0].n;
    expect(await inbox()).toBe(0);
    const held = async () =>
      (await t.app.get(GatehouseMetrics).registry.getSingleMetric('gatehouse_decision_commits_held_total')!.get())
        .values[0]?.value ?? 0;
    const heldBefore = await held();

    const blocker = new pg.Client({ connectionString: db.env.DATABASE_URL });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    let refused: Awaited<ReturnType<typeof decideTimed>>[] = [];
    try {
      // Decided one after another: admitted (into the inbox) until a round measures a lag past
      // SEAL_BACKPRESSURE_MS, then held back until their deadline.
      const lockedAt = performance.now();
      for (let n = 0; n < 30; n++) {
        const d = await decideTimed(t.baseUrl, credential);
        if (d.status !== 200) {
          refused.push(d);
          break;
        }
        answered.push(d.requestId);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(refused).toHaveLength(1);
      // Admitted only before the lag passed the threshold (a round every SEAL_INTERVAL_MS
      // measures it; a generous margin for a loaded machine), each acknowledged one in the inbox.
      expect(performance.now() - lockedAt).toBeLessThan(SEAL_BACKPRESSURE_MS + DATABASE_TIMEOUT_MS + 1000);
      expect(await inbox()).toBe(answered.length - 1);
      // More, at once, while the sealer still cannot seal: all wait, none is written.
      refused = refused.concat(await Promise.all(Array.from({ length: 5 }, () => decideTimed(t.baseUrl, credential))));
      expect(await inbox()).toBe(answered.length - 1);
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    for (const d of refused) {
      expect([d.status, d.body.error?.code]).toEqual([503, 'unavailable']);
      expect(d.ms).toBeGreaterThanOrEqual(DATABASE_TIMEOUT_MS - 50);
      expect(d.ms).toBeLessThan(DATABASE_TIMEOUT_MS + 1500);
    }
    expect(await held()).toBeGreaterThan(heldBefore);

    // The sealer seals again: decisions go through, and the chain holds every acknowledged
    // decision exactly once, and none of those refused.
    const after = await decideTimed(t.baseUrl, credential);
    expect(after.status).toBe(200);
    answered.push(after.requestId);
    await t.app.get(AuditService).sealPending();
    const chained = (
      await t.database.dataSource.query<{ request_id: string }[]>(
        `SELECT request_id FROM audit_records WHERE event_type = 'decision' ORDER BY seq`,
      )
    ).map((r) => r.request_id);
    expect(chained).toEqual(answered);
    for (const d of refused) {
      const read = await api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${d.requestId}`, { token: credential });
      expect(read.status).toBe(404);
    }
    expect(await verifyAuditChain(t.database.dataSource)).toMatchObject({ ok: true });
  }, 60_000);
});
