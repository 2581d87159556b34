import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, startTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'Harbor-lantern-quartz';

describe('answers that carry secrets, and what is logged', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { GATEHOUSE_ADMIN_PASSWORD: '' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('says Cache-Control: no-store on setup, sign-in, enrollment-token creation and enrollment', async () => {
    const setupToken = /One-time setup token: (\S+)/.exec(t.logs.join(''))?.[1];
    expect(setupToken).toBeDefined();
    const setup = await api(t.baseUrl, 'POST', '/api/v1/auth/setup', {
      body: { setupToken, username: 'chief', password: PASSWORD },
    });
    const login = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
      body: { username: 'chief', password: PASSWORD },
    });
    const token = login.body.accessToken as string;
    const enrollment = await api(t.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token,
      body: { expiresInHours: 1, maxUses: 1 },
    });
    const enroll = await api(t.baseUrl, 'POST', '/api/v1/agent/enroll', {
      token: enrollment.body.token,
      body: { deviceId: 'ct-9', model: 'SOMATOM' },
    });
    const answers = { setup, login, enrollment, enroll };
    expect(Object.fromEntries(Object.entries(answers).map(([k, r]) => [k, r.status]))).toEqual({
      setup: 201,
      login: 200,
      enrollment: 201,
      enroll: 201,
    });
    for (const res of Object.values(answers)) expect(res.headers.get('cache-control')).toBe('no-store');
    // Refusals too (a 401 may follow a body with a token in it).
    const refused = await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'chief', password: 'x' } });
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it('logs the query parameter names of a request, not their values', async () => {
    const secret = 'Sup3r-secret-value';
    await api(t.baseUrl, 'GET', `/api/v1/audit?eventType=auth.login&token=${secret}&q`);
    const lines = t.logs.filter((l) => l.includes('/api/v1/audit'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(secret);
    expect(JSON.parse(lines[lines.length - 1]).url).toBe('/api/v1/audit?eventType=…&token=…&q=…');
  });
});
