import { describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { withTwoReplicas } from '../support/replicas.js';
import { api, login } from '../support/test-app.js';

describe('two replicas on one database', () => {
  it('share decisions, revocations and console rules through LISTEN/NOTIFY', async () => {
    await withTwoReplicas(async (a, b) => {
      const admin = await login(a.baseUrl);
      const ct = await enrollDevice(a.baseUrl, admin, {
        deviceId: 'ct-r1',
        model: 'SOMATOM X.cite',
        site: 'Main campus',
      });

      // A long poll on A wakes when the request is cancelled through B.
      const body = decisionBody({ action: 'software-install', target: { package: 'ct-fw' } });
      expect((await api(a.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body })).body.status).toBe(
        'pending',
      );
      const started = Date.now();
      const poll = api(a.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}?wait=20`, { token: ct });
      await new Promise((r) => setTimeout(r, 200));
      expect(
        (await api(b.baseUrl, 'POST', `/api/v1/agent/decisions/${body.requestId}/cancel`, { token: ct })).status,
      ).toBe(200);
      expect((await poll).body.status).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(1500);

      // A console rule added on A decides on B.
      const rule = { id: 'replica-deny-x-probe', effect: 'deny', actions: ['x-probe'], devices: ['ct-scanners'] };
      expect(
        (await api(a.baseUrl, 'POST', '/api/v1/policies/console-rules', { token: admin, body: { rule } })).status,
      ).toBe(201);
      let decided = '';
      for (let i = 0; i < 30 && decided !== rule.id; i++) {
        const res = await api(b.baseUrl, 'POST', '/api/v1/agent/decisions', {
          token: ct,
          body: decisionBody({ action: 'x-probe' }),
        });
        decided = res.body.policies?.[0] ?? '';
        if (decided !== rule.id) await new Promise((r) => setTimeout(r, 100));
      }
      expect(decided).toBe(rule.id);

      // A device revoked on A is refused by B at once (B had its credential cached).
      expect((await api(b.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: ct, body: {} })).status).toBe(200);
      expect((await api(a.baseUrl, 'POST', '/api/v1/devices/ct-r1/revoke', { token: admin })).status).toBe(200);
      let status = 200;
      for (let i = 0; i < 20 && status === 200; i++) {
        status = (await api(b.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: ct, body: {} })).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe(401);
    });
  }, 60_000);
});
