import { describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { api, login, startTestApp } from '../support/test-app.js';
import { createEmbeddedTestDatabase } from '../support/test-db.js';
import { askPending, createApprovalWorld, installBody, uploadBody } from '../support/approvers.js';
import { ApprovalJobs } from '../../src/approvals/approval-jobs.js';
import { startSmtpServer } from '../support/notification-peers.js';
import { waitFor } from '../support/wait-for.js';

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

  it('decides approvals on PGlite too: votes, concurrent answers, grants, jobs and e-mail on one connection', async () => {
    const db = createEmbeddedTestDatabase();
    const smtp = await startSmtpServer();
    const app = await startTestApp({
      db,
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SMTP_ALLOW_PLAINTEXT: 'true',
        PUBLIC_URL: 'https://gatehouse.hosp.test',
      },
    });
    try {
      const w = await createApprovalWorld(app.baseUrl);
      const body = installBody('embedded-pkg');
      const id = await askPending(app.baseUrl, w.ct, body);
      const votes = await Promise.all(
        [w.tokens.alice, w.tokens.bob, w.tokens.alice].map((token) =>
          api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token, body: { grantMinutes: 30 } }),
        ),
      );
      expect(votes.map((v) => v.status).sort()).toEqual([200, 200, 409]);
      const repeat = await api(app.baseUrl, 'POST', '/api/v1/agent/decisions', {
        token: w.ct,
        body: { ...body, requestId: crypto.randomUUID() },
      });
      expect(repeat.body.status).toBe('allowed');
      const upload = await askPending(app.baseUrl, w.ct, uploadBody());
      await app.app.get(ApprovalJobs).runOnce();
      await waitFor(() => smtp.mails.some((m) => m.raw.includes(upload)), "the approvers' mail");
      expect(smtp.mails.find((m) => m.raw.includes(upload))?.to).toEqual(['alice@hosp.test', 'bob@hosp.test']);
    } finally {
      await app.close();
      await smtp.close();
      await db.dispose();
    }
  }, 60_000);

  it('refuses a second process (or the CLI) on the folder while Gatehouse runs on it', async () => {
    const db = createEmbeddedTestDatabase();
    const app = await startTestApp({ db });
    try {
      const config = loadConfig({ ...db.env, LOG_LEVEL: 'silent' });
      // (user:unlock alone goes through the server: test/cli/cli-embedded.e2e-spec.ts)
      await expect(COMMANDS['audit:verify'].run(config, [])).rejects.toThrow(
        /embedded database is in use by this process \(a running Gatehouse\?\)/,
      );
      expect((await api(app.baseUrl, 'GET', '/health/ready')).status).toBe(200); // untouched
    } finally {
      await app.close();
    }
    try {
      const config = loadConfig({ ...db.env, LOG_LEVEL: 'silent' });
      expect(await COMMANDS['user:unlock'].run(config, ['admin'])).toBe(0); // free again once it stopped
    } finally {
      await db.dispose();
    }
  }, 60_000);
});
