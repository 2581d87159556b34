import { describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { api, login } from '../support/test-app.js';
import {
  createEmbeddedTestDatabase,
  createTestDatabase,
  testDatabaseKind,
  type TestDatabase,
} from '../support/test-db.js';

// kill -9 of Gatehouse while agents are deciding: an answer the agent received (200) is a
// promise that the decision was committed with its audit record. After a restart on the same
// database every acknowledged decision must read back the same, its record must be in the
// chain exactly once (sealed by the killed process or by the next), and the chain must verify.
const AGENTS = 4;
const IN_FLIGHT_PER_AGENT = 4;
const KILL_AFTER_ACKNOWLEDGED = 60;
const MAX_REQUESTS_PER_LOOP = 2_000; // bounds the load if the kill never comes
// Decisions are rate limited per device: the load here is what is being proven, not the limit.
const SERVER_ENV = { DEVICE_RATE_PER_SECOND: '10000', DEVICE_RATE_BURST: '100000' };

interface Acknowledged {
  credential: string;
  requestId: string;
  decision: string;
}

/** Agents deciding in loops until one of their calls fails (the server died) or the bound. */
function driveDecisions(baseUrl: string, credentials: string[], acknowledged: Acknowledged[]): Promise<void[]> {
  const loop = async (credential: string, index: number) => {
    for (let n = 0; n < MAX_REQUESTS_PER_LOOP; n++) {
      // Half go to a rule (log uploads: allowed at any hour, so the test does not depend on the
      // time of day it runs at), half to the default (an action no rule names).
      const body = decisionBody({ action: n % 2 === index % 2 ? 'log-upload' : 'x-crash-proof' });
      let res;
      try {
        res = await api(baseUrl, 'POST', '/api/v1/agent/decisions', { token: credential, body });
      } catch {
        return; // connection refused or reset: the server is gone
      }
      if (res.status === 200) {
        acknowledged.push({ credential, requestId: body.requestId, decision: res.body.decision as string });
      } else {
        throw new Error(`decision answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
    }
  };
  return Promise.all(credentials.flatMap((c) => Array.from({ length: IN_FLIGHT_PER_AGENT }, (_, i) => loop(c, i))));
}

async function killUnderLoadAndRestart(db: TestDatabase): Promise<void> {
  const env = { ...db.env, ...SERVER_ENV };
  let first: ServerProcess | undefined = await startServerProcess(env);
  let second: ServerProcess | undefined;
  try {
    const admin = await login(first.baseUrl);
    const credentials: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      credentials.push(
        await enrollDevice(first.baseUrl, admin, {
          deviceId: `crash-${i}`,
          model: 'SOMATOM X.cite',
          site: 'Main campus',
        }),
      );
    }

    const acknowledged: Acknowledged[] = [];
    const load = driveDecisions(first.baseUrl, credentials, acknowledged);
    let loadEnded = false;
    void load.finally(() => (loadEnded = true)).catch(() => undefined);
    // Wait for the event (enough answers), not for a time: each answer arrives on its own.
    while (acknowledged.length < KILL_AFTER_ACKNOWLEDGED && !loadEnded) await new Promise((r) => setImmediate(r));
    expect(loadEnded).toBe(false); // killed mid-load, with requests in flight
    await first.kill9();
    first = undefined;
    await load;
    const acknowledgedAtKill = acknowledged.length;
    expect(acknowledgedAtKill).toBeGreaterThanOrEqual(KILL_AFTER_ACKNOWLEDGED);

    second = await startServerProcess(env);
    const lost: string[] = [];
    for (const a of acknowledged) {
      const res = await api(second.baseUrl, 'GET', `/api/v1/agent/decisions/${a.requestId}`, { token: a.credential });
      if (res.status !== 200 || res.body.decision !== a.decision) {
        lost.push(`${a.requestId}: acknowledged ${a.decision}, now ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(lost).toEqual([]);
    expect(new Set(acknowledged.map((a) => a.decision)).size).toBeGreaterThan(1); // both paths were exercised

    const auditor = await login(second.baseUrl);
    const verify = await api(second.baseUrl, 'GET', '/api/v1/audit/verify?full=true', { token: auditor });
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true });
    expect(verify.body.records).toBeGreaterThanOrEqual(acknowledgedAtKill);
    // Decisions' records are committed into the audit inbox and sealed into the chain after
    // the answer: whatever the killed process left unsealed, this one sealed (verify waits
    // for it). Every acknowledged decision is in the chain exactly once.
    expect(verify.body.sealLag).toMatchObject({ unsealed: expect.any(Number) });
    const exported = await api(second.baseUrl, 'GET', '/api/v1/audit/export?format=jsonl', { token: auditor });
    expect(exported.status).toBe(200);
    const decisionRecords = new Map<string, number>();
    for (const text of String(exported.body).split('\n').filter(Boolean)) {
      const record = JSON.parse(text) as { eventType: string; requestId: string | null };
      if (record.eventType === 'decision' && record.requestId) {
        decisionRecords.set(record.requestId, (decisionRecords.get(record.requestId) ?? 0) + 1);
      }
    }
    const notOnce = acknowledged.filter((a) => decisionRecords.get(a.requestId) !== 1);
    expect(notOnce.map((a) => `${a.requestId}: ${decisionRecords.get(a.requestId) ?? 0} records`)).toEqual([]);
  } finally {
    await first?.kill9();
    await second?.stop();
    await db.dispose();
  }
}

describe('kill -9 of Gatehouse under decision load', () => {
  it('on PostgreSQL: every acknowledged decision is there after restart, and the audit chain verifies', async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error('This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432)');
    }
    await killUnderLoadAndRestart(await createTestDatabase('postgres'));
  }, 400_000);

  it('on the embedded database: every acknowledged decision is there after restart, and the audit chain verifies', async () => {
    await killUnderLoadAndRestart(createEmbeddedTestDatabase());
  }, 400_000);
});
