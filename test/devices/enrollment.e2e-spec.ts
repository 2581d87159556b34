import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

describe('device enrollment, credentials and heartbeat', () => {
  let t: TestApp;
  let admin: string;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await startTestApp({ clock });
    admin = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  const newToken = async (body: object) => {
    const res = await api(t.baseUrl, 'POST', '/api/v1/enrollment-tokens', { token: admin, body });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string; expiresAt: string };
  };
  const enroll = (token: string, deviceId: string) =>
    api(t.baseUrl, 'POST', '/api/v1/agent/enroll', {
      token,
      body: {
        deviceId,
        model: 'SOMATOM X.cite',
        serialNumber: 'SN1',
        site: 'Main campus',
        agentVersion: '6.2.0',
        actions: ['remote-session'],
      },
    });

  it('enrolls with a token, returns the credential once, and the credential works', async () => {
    const { token } = await newToken({ deviceGroups: ['ct-scanners'], expiresInHours: 24, maxUses: 5 });
    const res = await enroll(token, 'ct-0042');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      deviceId: 'ct-0042',
      credential: expect.stringMatching(/^ghd_/),
      pollIntervalSeconds: 30,
    });
    const hb = await api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', {
      token: res.body.credential,
      body: { agentVersion: '6.2.1', state: { inUse: false, mode: 'idle' } },
    });
    expect(hb).toMatchObject({ status: 200, body: { pollIntervalSeconds: 30 } });
    const nul = await api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', {
      token: res.body.credential,
      body: { state: { inUse: true, mode: 'scan\u0000' } },
    });
    expect(nul.status).toBe(400);
    expect(JSON.stringify(nul.body.error.details)).toMatch(/NUL/);
    const devices = await api(t.baseUrl, 'GET', '/api/v1/devices', { token: admin });
    expect(devices.body).toEqual([
      expect.objectContaining({
        id: 'ct-0042',
        agentVersion: '6.2.1',
        groups: ['ct-scanners'],
        state: { inUse: false, mode: 'idle' },
        stateFresh: true,
        revoked: false,
      }),
    ]);
    // Only the hash is stored.
    const stored = await t.database.dataSource.query(`SELECT credential_hash FROM devices WHERE id = 'ct-0042'`);
    expect(stored[0].credential_hash).not.toContain(res.body.credential);
    expect(JSON.stringify(devices.body)).not.toContain(res.body.credential);
  });

  it('counts reported state as unknown after three poll intervals', async () => {
    clock.advance(91_000);
    const devices = await api(t.baseUrl, 'GET', '/api/v1/devices', { token: admin });
    expect(devices.body[0].stateFresh).toBe(false);
  });

  it('refuses a second enrollment of the same id (409) until an administrator resets it', async () => {
    const { token } = await newToken({ expiresInHours: 1, maxUses: 5 });
    expect((await enroll(token, 'ct-0042')).status).toBe(409);
    expect((await api(t.baseUrl, 'POST', '/api/v1/devices/ct-0042/reset', { token: admin })).status).toBe(204);
    expect((await enroll(token, 'ct-0042')).status).toBe(201);
  });

  it('refuses used-up, expired, revoked and unknown tokens with 401', async () => {
    const once = await newToken({ expiresInHours: 1, maxUses: 1 });
    const results = await Promise.all(['a-1', 'a-2', 'a-3', 'a-4'].map((id) => enroll(once.token, id)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 401, 401, 401]); // concurrent: exactly one use

    const expiring = await newToken({ expiresInHours: 1, maxUses: 10 });
    clock.advance(2 * 3_600_000);
    expect((await enroll(expiring.token, 'b-1')).status).toBe(401);
    admin = await login(t.baseUrl); // the idle session ended in those two hours

    const revoked = await newToken({ expiresInHours: 1, maxUses: 10 });
    expect(
      (await api(t.baseUrl, 'POST', `/api/v1/enrollment-tokens/${revoked.id}/revoke`, { token: admin })).status,
    ).toBe(200);
    expect((await enroll(revoked.token, 'c-1')).status).toBe(401);
    expect((await enroll('ghe_unknown', 'd-1')).status).toBe(401);
    const res = await api(t.baseUrl, 'POST', '/api/v1/agent/enroll', { body: { deviceId: 'e-1', model: 'x' } });
    expect(res.status).toBe(401);
  });

  it('stops a revoked device at once (401), and audits enrollment and revocation', async () => {
    const { token } = await newToken({ expiresInHours: 1, maxUses: 1 });
    const { credential } = (await enroll(token, 'inj-0007')).body;
    expect((await api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: credential, body: {} })).status).toBe(200);
    expect((await api(t.baseUrl, 'POST', '/api/v1/devices/inj-0007/revoke', { token: admin })).body.revoked).toBe(true);
    const after = await api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: credential, body: {} });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
    const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?deviceId=inj-0007', { token: admin });
    expect(audit.body.items.map((r: { eventType: string }) => r.eventType)).toEqual([
      'device.revoked',
      'device.enrolled',
    ]);
  });

  it('keeps devices and tokens to administrators', async () => {
    await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'sec', password: 'Harbor-lantern-quill', groups: ['IT-Security'] },
    });
    const auditor = await login(t.baseUrl, 'sec', 'Harbor-lantern-quill');
    expect((await api(t.baseUrl, 'GET', '/api/v1/devices', { token: auditor })).status).toBe(200);
    expect(
      (
        await api(t.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
          token: auditor,
          body: { expiresInHours: 1, maxUses: 1 },
        })
      ).status,
    ).toBe(403);
    expect((await api(t.baseUrl, 'POST', '/api/v1/devices/ct-0042/revoke', { token: auditor })).status).toBe(403);
  });
});
