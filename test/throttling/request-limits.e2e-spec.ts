import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { clientAt, type AddressedResponse } from '../support/from-address.js';
import { api, ADMIN_PASSWORD, login, startTestApp, type TestApp } from '../support/test-app.js';

const LIMIT = 10;
const expectRateLimited = (res: AddressedResponse) => {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe('rate_limited');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
};

describe('failed calls per source address (TRUST_PROXY off)', () => {
  let t: TestApp;
  let deviceCredential: string;
  beforeAll(async () => {
    t = await startTestApp({
      env: { ADDRESS_FAILURE_LIMIT: String(LIMIT), ADDRESS_FAILURE_WINDOW_SECONDS: '600', LOGIN_LOCK_AFTER: '1000' },
    });
    deviceCredential = await enrollDevice(t.baseUrl, await login(t.baseUrl), { deviceId: 'ct-1', model: 'SOMATOM' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stops a flood of random device credentials from one address, not the devices elsewhere', async () => {
    const attacker = clientAt('127.0.0.2');
    const device = clientAt('127.0.0.3');
    // Four calls in flight at a time: failures are counted as their answers leave, so the calls
    // in flight when the limit is reached still get through (at most three over it).
    const IN_FLIGHT = 4;
    const flood: { status: number }[] = [];
    for (let sent = 0; sent < 40; sent += IN_FLIGHT) {
      flood.push(
        ...(await Promise.all(
          Array.from({ length: IN_FLIGHT }, () =>
            attacker.post(
              `${t.baseUrl}/api/v1/agent/heartbeat`,
              { agentVersion: '1' },
              {
                authorization: `Bearer ${randomUUID()}`,
                // Without TRUST_PROXY a forged header changes nothing.
                'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250)}`,
              },
            ),
          ),
        )),
      );
    }
    const statuses = flood.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(LIMIT + IN_FLIGHT - 1);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(40 - LIMIT - IN_FLIGHT + 1);
    expectRateLimited(
      await attacker.post(`${t.baseUrl}/api/v1/agent/decisions`, decisionBody(), {
        authorization: `Bearer ${deviceCredential}`,
      }),
    );
    const good = await device.post(`${t.baseUrl}/api/v1/agent/decisions`, decisionBody(), {
      authorization: `Bearer ${deviceCredential}`,
    });
    expect(good.status).toBe(200);
    expect((await attacker.get(`${t.baseUrl}/health/live`)).status).toBe(200); // probes still answered
  });

  it('stops password spraying with random user names from one address, not sign-ins elsewhere', async () => {
    const sprayer = clientAt('127.0.0.4');
    const desk = clientAt('127.0.0.5');
    const results: number[] = [];
    for (let i = 0; i < LIMIT + 5; i++) {
      const res = await sprayer.post(`${t.baseUrl}/api/v1/auth/login`, {
        username: `user-${randomUUID()}`,
        password: 'Spring2026!',
      });
      results.push(res.status);
      if (res.status === 429) expectRateLimited(res);
    }
    expect(results).toEqual([...Array(LIMIT).fill(401), ...Array(5).fill(429)]);
    const admin = await desk.post(`${t.baseUrl}/api/v1/auth/login`, { username: 'admin', password: ADMIN_PASSWORD });
    expect(admin.status).toBe(200);
  });
});

describe('failed calls per source address behind a proxy (TRUST_PROXY on)', () => {
  it('counts the client named by X-Forwarded-For, so one client does not starve the others', async () => {
    const t = await startTestApp({ env: { ADDRESS_FAILURE_LIMIT: String(LIMIT), TRUST_PROXY: 'true' } });
    try {
      const from = (client: string, password: string) =>
        api(t.baseUrl, 'POST', '/api/v1/auth/login', {
          body: { username: `u-${randomUUID()}`, password },
          headers: { 'x-forwarded-for': client },
        });
      for (let i = 0; i < LIMIT; i++) expect((await from('203.0.113.7', 'guess')).status).toBe(401);
      const limited = await from('203.0.113.7', 'guess');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      const admin = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
        headers: { 'x-forwarded-for': '203.0.113.8' },
      });
      expect(admin.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('per-device limits on every agent route', () => {
  it('limits heartbeats, long polls, cancel, complete and the offline policy calls per device, without starving another', async () => {
    const t = await startTestApp({ env: { DEVICE_RATE_BURST: '5', DEVICE_RATE_PER_SECOND: '1' } });
    try {
      const admin = await login(t.baseUrl);
      const noisy = await enrollDevice(t.baseUrl, admin, { deviceId: 'noisy', model: 'SOMATOM A' });
      const quiet = await enrollDevice(t.baseUrl, admin, { deviceId: 'quiet', model: 'SOMATOM B' });
      const id = randomUUID();
      const calls = [
        () => api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: noisy, body: { agentVersion: '1' } }),
        () => api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${id}`, { token: noisy }),
        () => api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${id}/cancel`, { token: noisy }),
        () =>
          api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${id}/complete`, {
            token: noisy,
            body: { outcome: 'succeeded' },
          }),
        () => api(t.baseUrl, 'GET', '/api/v1/agent/policy', { token: noisy }),
        () => api(t.baseUrl, 'POST', '/api/v1/agent/offline-decisions', { token: noisy, body: { decisions: [] } }),
      ];
      const flood = await Promise.all(Array.from({ length: 20 }, (_, i) => calls[i % calls.length]()));
      const limited = flood.filter((r) => r.status === 429);
      expect(limited.length).toBe(15);
      expect(limited[0].headers.get('retry-after')).toMatch(/^\d+$/);
      expect(limited[0].body.error.code).toBe('rate_limited');
      // The offline policy routes count too: the device is over its limit on them as well.
      for (const call of calls.slice(-2)) expect((await call()).status).toBe(429);
      const other = await api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', {
        token: quiet,
        body: { agentVersion: '1' },
      });
      expect(other.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
