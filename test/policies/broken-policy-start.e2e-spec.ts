import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

// Tuesday 09:00 in Paris: office hours, when the example set allows a tier-2 session.
const clock = new TestClock(new Date('2026-11-24T08:00:00Z'));

// security-and-reliability.md 6 and 7: deny on a policy set that failed to load at start;
// not ready until a first good set is loaded.
describe('start with a policy set that does not validate', () => {
  let dir: string;
  let brokenFile: string;
  let t: TestApp;
  let admin: string;
  let ct: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-broken-policies-'));
    cpSync('policies', dir, { recursive: true });
    brokenFile = join(dir, 'rules', 'broken.yaml');
    writeFileSync(
      brokenFile,
      'rules:\n  - id: broken-rule\n    efect: allow\n    actions: [restart]\n    devices: ["*"]\n',
    );
    t = await startTestApp({ clock, env: { POLICIES_DIR: dir, DEVICE_RATE_BURST: '1000' } });
    admin = await login(t.baseUrl);
    ct = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-0042', model: 'SOMATOM X.cite', site: 'Main campus' });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not ready: 503 naming the policies check', async () => {
    const ready = await api(t.baseUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({
      code: 'unavailable',
      details: [{ field: 'policies', problem: expect.stringMatching(/no valid policy set/) }],
    });
    const policies = await api(t.baseUrl, 'GET', '/api/v1/policies', { token: admin });
    expect(policies.body.inForce).toBe(false);
  });

  it('denies every decision, those the files would allow or send for approval included', async () => {
    const bodies = [
      decisionBody(), // allowed by acme-sessions-office-hours in a good set
      decisionBody({ action: 'software-install', target: { package: 'ct-fw', version: '4.2.1' } }),
      decisionBody({ action: 'x-anything' }),
    ];
    for (const body of bodies) {
      const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ requestId: body.requestId, decision: 'deny', status: 'denied' });
      const read = await api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}`, { token: ct });
      expect(read.body.decision).toBe('deny');
    }
  });

  it('gives no offline policy (503: the agent keeps denying offline) and records no issue', async () => {
    const res = await api(t.baseUrl, 'GET', '/api/v1/agent/policy', { token: ct });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/No valid policy/) });
    expect(await t.database.dataSource.query('SELECT * FROM offline_policy_issues')).toEqual([]);
  });

  it('becomes ready and decides by the rules once the files are fixed and reloaded', async () => {
    rmSync(brokenFile);
    expect((await api(t.baseUrl, 'POST', '/api/v1/policies/reload', { token: admin })).status).toBe(200);
    expect((await api(t.baseUrl, 'GET', '/health/ready')).status).toBe(200);
    const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body: decisionBody() });
    expect(res.body.decision).toBe('allow');
  });
});
