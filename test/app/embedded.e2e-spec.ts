import { describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
import { api, login, startTestApp } from '../support/test-app.js';
import { createEmbeddedTestDatabase } from '../support/test-db.js';

describe('the embedded database (no DATABASE_URL)', () => {
  it('runs the whole appliance on PGlite and keeps its data across a restart', async () => {
    const db = createEmbeddedTestDatabase();
    try {
      const first = await startTestApp({ db });
      expect(first.database.kind).toBe('embedded');
      const token = await login(first.baseUrl);
      expect((await api(first.baseUrl, 'GET', '/health/ready')).status).toBe(200);
      const created = await api(first.baseUrl, 'POST', '/api/v1/users', {
        token,
        body: { username: 'nurse', password: 'Lantern-harbor-quartz', groups: ['Biomed-Staff'] },
      });
      expect(created.status).toBe(201);
      // Concurrent appends through the single-connection socket keep one chain.
      const audit = first.app.get(AuditService);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => audit.append({ eventType: 'load', actorType: 'system', details: { i } })),
      );
      await first.close();

      const second = await startTestApp({ db });
      const again = await login(second.baseUrl, 'nurse', 'Lantern-harbor-quartz');
      const me = await api(second.baseUrl, 'GET', '/api/v1/auth/me', { token: again });
      expect(me.body.roles).toEqual([
        { role: 'viewer', devices: '*', via: ['Biomed-Staff'], from: [{ group: 'Biomed-Staff', source: 'local' }] },
      ]);
      const verify = await api(second.baseUrl, 'GET', '/api/v1/audit/verify', { token: await login(second.baseUrl) });
      expect(verify.body.ok).toBe(true);
      expect(verify.body.records).toBeGreaterThan(100);
      await second.close();
    } finally {
      await db.dispose();
    }
  }, 60_000);
});
