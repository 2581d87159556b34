import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

describe('a scoped enrollment token bounds the device groups', () => {
  let t: TestApp;
  let admin: string;
  let credential: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await login(t.baseUrl);
    const token = await api(t.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: admin,
      body: { deviceGroups: ['lab-analyzers'], expiresInHours: 1, maxUses: 1 },
    });
    // A lab token, but the agent claims a CT scanner model (ct-scanners matches SOMATOM*).
    const enrolled = await api(t.baseUrl, 'POST', '/api/v1/agent/enroll', {
      token: token.body.token,
      body: { deviceId: 'lab-7', model: 'SOMATOM X.cite', site: 'Main campus' },
    });
    expect(enrolled.status).toBe(201);
    credential = enrolled.body.credential;
  });
  afterAll(async () => {
    await t?.close();
  });

  const device = async () =>
    (await api(t.baseUrl, 'GET', '/api/v1/devices', { token: admin })).body.find(
      (d: { id: string }) => d.id === 'lab-7',
    );

  it('puts the device in the token groups only, whatever model it claims, and decides on those', async () => {
    expect(await device()).toMatchObject({ groups: ['lab-analyzers'], groupScope: ['lab-analyzers'] });
    // log-upload is allowed for ct-scanners by the example policies, not for lab analyzers.
    const decision = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: credential,
      body: decisionBody({ action: 'log-upload' }),
    });
    expect(decision.body.decision).toBe('deny');
  });

  it('refuses a model or site change from the agent (heartbeat)', async () => {
    for (const body of [{ model: 'cobas 8000' }, { site: 'North clinic' }]) {
      const res = await api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: credential, body });
      expect(res.status).toBe(400);
    }
    expect(await device()).toMatchObject({ model: 'SOMATOM X.cite', site: 'Main campus' });
  });

  it('lets an administrator change the model, site and bound, audited', async () => {
    const changed = await api(t.baseUrl, 'PATCH', '/api/v1/devices/lab-7', {
      token: admin,
      body: { model: 'cobas 8000', site: 'Lab building' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ model: 'cobas 8000', site: 'Lab building', groups: ['lab-analyzers'] });
    const rescoped = await api(t.baseUrl, 'PATCH', '/api/v1/devices/lab-7', {
      token: admin,
      body: { model: 'SOMATOM X.cite', groupScope: ['ct-scanners'] },
    });
    expect(rescoped.body).toMatchObject({ groups: ['ct-scanners'], groupScope: ['ct-scanners'] });
    const decision = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: credential,
      body: decisionBody({ action: 'log-upload' }),
    });
    expect(decision.body).toMatchObject({ decision: 'allow' }); // the cached device was dropped at once
    const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=device.updated', { token: admin });
    expect(audit.body.items).toHaveLength(2);
    const empty = await api(t.baseUrl, 'PATCH', '/api/v1/devices/lab-7', { token: admin, body: {} });
    expect(empty.status).toBe(400);
  });
});
