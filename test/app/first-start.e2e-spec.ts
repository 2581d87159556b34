import { describe, expect, it } from '@jest/globals';
import { api, login, startTestApp } from '../support/test-app.js';

describe('first start without GATEHOUSE_ADMIN_PASSWORD', () => {
  it('prints a one-time setup token once; the setup call creates the administrator, then never again', async () => {
    const t = await startTestApp({ env: { GATEHOUSE_ADMIN_PASSWORD: '' } });
    try {
      // No default credentials: nothing signs in.
      for (const password of ['admin', 'password', 'gatehouse', 'changeme']) {
        expect(
          (await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password } })).status,
        ).toBe(401);
      }
      const lines = t.logs.filter((l) => l.includes('One-time setup token'));
      expect(lines).toHaveLength(1);
      const setupToken = /setup token: (\S+)/.exec(lines[0])![1];
      expect((await api(t.baseUrl, 'GET', '/api/v1/auth/setup')).body).toEqual({ setupRequired: true });

      const wrong = await api(t.baseUrl, 'POST', '/api/v1/auth/setup', {
        body: { setupToken: 'guess', username: 'root', password: 'Orchard-velvet-compass' },
      });
      expect(wrong.status).toBe(403);
      const ok = await api(t.baseUrl, 'POST', '/api/v1/auth/setup', {
        body: { setupToken, username: 'Root', displayName: 'IT on call', password: 'Orchard-velvet-compass' },
      });
      expect(ok.status).toBe(201);
      const token = await login(t.baseUrl, 'root', 'Orchard-velvet-compass');
      expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token })).body.roles[0].role).toBe('admin');

      const replay = await api(t.baseUrl, 'POST', '/api/v1/auth/setup', {
        body: { setupToken, username: 'second', password: 'Orchard-velvet-compass' },
      });
      expect(replay.status).toBe(403);
      const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=setup.admin_created', { token });
      expect(audit.body.items.map((r: { outcome: string }) => r.outcome)).toEqual(['failure', 'success', 'failure']);
    } finally {
      await t.close();
    }
  });
});
