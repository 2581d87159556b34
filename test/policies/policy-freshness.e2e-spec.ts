import { describe, expect, it } from '@jest/globals';
import { NotificationBus } from '../../src/database/notification-bus.js';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { withTwoReplicas } from '../support/replicas.js';
import { api, login, type TestApp } from '../support/test-app.js';
import { adminQuery } from '../support/test-db.js';

const rule = { id: 'missed-deny-log-upload', effect: 'deny', actions: ['log-upload'], devices: ['ct-scanners'] };

/**
 * Stores a console rule the way a replica does, but no NOTIFY follows: what a replica
 * whose LISTEN connection was down at that moment would (not) have heard.
 */
async function addRuleUnannounced(t: TestApp): Promise<void> {
  await adminQuery(
    `INSERT INTO console_rules (id, rule, created_by, created_at, updated_by, updated_at)
     VALUES ($1, $2, 'admin', now(), 'admin', now())`,
    [rule.id, JSON.stringify(rule)],
    t.db.env.DATABASE_URL,
  );
}

/** Decides on the replica until the rule decides there, for 15 s at most. */
async function untilDeniedByRule(t: TestApp, credential: string): Promise<string[]> {
  let policies: string[] = [];
  const giveUpAt = performance.now() + 15_000;
  while (performance.now() < giveUpAt && !policies.includes(rule.id)) {
    const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: credential,
      body: decisionBody({ action: 'log-upload' }),
    });
    policies = res.body.policies ?? [];
  }
  return policies;
}

describe('a replica that missed a console rule change', () => {
  it('converges at its periodic check of the database', async () => {
    await withTwoReplicas(
      async (a, b) => {
        const ct = await enrollDevice(a.baseUrl, await login(a.baseUrl), { deviceId: 'ct-f1', model: 'SOMATOM X' });
        await addRuleUnannounced(a);
        expect(await untilDeniedByRule(b, ct)).toEqual([rule.id]);
      },
      { env: { POLICY_CHECK_SECONDS: '1' } },
    );
  }, 60_000);

  it('converges after its LISTEN connection is terminated and comes back', async () => {
    await withTwoReplicas(
      async (a, b) => {
        const ct = await enrollDevice(a.baseUrl, await login(a.baseUrl), { deviceId: 'ct-f2', model: 'SOMATOM X' });
        await addRuleUnannounced(a);
        const listener = b.app.get(NotificationBus).listenerBackendPid;
        expect(listener).toBeDefined();
        await adminQuery('SELECT pg_terminate_backend($1)', [listener]);
        expect(await untilDeniedByRule(b, ct)).toEqual([rule.id]);
      },
      { env: { POLICY_CHECK_SECONDS: '0' } }, // only the reconnect check can find it
    );
  }, 60_000);
});
