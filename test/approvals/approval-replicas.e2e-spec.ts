import { describe, expect, it } from '@jest/globals';
import { ApprovalJobs } from '../../src/approvals/approval-jobs.js';
import { withTwoReplicas } from '../support/replicas.js';
import { api, login } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { APPROVER_PASSWORD, askPending, createApprovalWorld, installBody, uploadBody } from '../support/approvers.js';

describe('approvals across two replicas on one database', () => {
  it('wakes a long poll on one replica within a second of a decision on the other; grants and their end travel too', async () => {
    await withTwoReplicas(async (a, b) => {
      const w = await createApprovalWorld(a.baseUrl);
      const aliceOnB = await login(b.baseUrl, 'alice', APPROVER_PASSWORD);

      // The agent long-polls on A; alice approves on B.
      const id = await askPending(a.baseUrl, w.ct, uploadBody('/opt/acme/replica.bin'));
      const poll = api(a.baseUrl, 'GET', `/api/v1/agent/decisions/${id}?wait=30`, { token: w.ct });
      await new Promise((r) => setTimeout(r, 300));
      const approvedAt = Date.now();
      expect(
        (await api(b.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: aliceOnB, body: {} })).status,
      ).toBe(200);
      const answer = await poll;
      const latency = Date.now() - approvedAt;
      expect(answer.body).toMatchObject({ decision: 'allow', status: 'approved' });
      expect(latency).toBeLessThan(1000);

      // A grant given on B allows repeats on A; ended on B, A refuses them at once.
      const body = installBody('replica-grant');
      const install = await askPending(a.baseUrl, w.ct, body);
      await api(b.baseUrl, 'POST', `/api/v1/approvals/${install}/approve`, {
        token: aliceOnB,
        body: { grantMinutes: 60 },
      });
      const done = await api(b.baseUrl, 'POST', `/api/v1/approvals/${install}/approve`, {
        token: w.tokens.bob,
        body: { grantMinutes: 60 },
      });
      expect(done.body.grant).not.toBeNull();
      const repeat = async (on: string) =>
        (
          await api(on, 'POST', '/api/v1/agent/decisions', {
            token: w.ct,
            body: { ...body, requestId: crypto.randomUUID() },
          })
        ).body.status;
      let status = '';
      for (let i = 0; i < 20 && status !== 'allowed'; i++) {
        status = await repeat(a.baseUrl);
        if (status !== 'allowed') await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe('allowed');
      await api(b.baseUrl, 'POST', `/api/v1/grants/${done.body.grant.id}/end`, { token: aliceOnB });
      expect(await repeat(a.baseUrl)).toBe('pending'); // confirmed in the database, whatever A's cache holds
    });
  }, 60_000);

  it('runs the expiry job on one replica at a time: each expiry is recorded once', async () => {
    const clock = new TestClock();
    await withTwoReplicas(
      async (a, b) => {
        const w = await createApprovalWorld(a.baseUrl);
        const ids: string[] = [];
        for (let i = 0; i < 20; i++)
          ids.push(await askPending(a.baseUrl, w.ct, uploadBody(`/opt/acme/expire-${i}.bin`)));
        clock.advance(61 * 60_000);
        const rounds = await Promise.all([a, b, a, b].map((app) => app.app.get(ApprovalJobs).runOnce()));
        // No request expired twice (the replicas' own timers may have taken some of them first).
        expect(new Set(rounds.flat()).size).toBe(rounds.flat().length);
        const expiredAudit = () =>
          api(a.baseUrl, 'GET', '/api/v1/audit?eventType=decision.expired&limit=100', { token: w.admin });
        let audit = await expiredAudit();
        for (let i = 0; i < 50 && audit.body.items.length < ids.length; i++) {
          await new Promise((r) => setTimeout(r, 100)); // a round on the other replica may still be committing
          await a.app.get(ApprovalJobs).runOnce();
          audit = await expiredAudit();
        }
        expect(audit.body.items.map((r: { requestId: string }) => r.requestId).sort()).toEqual([...ids].sort());
      },
      { clock, env: { SESSION_IDLE_MINUTES: '1440' } },
    );
  }, 60_000);
});
