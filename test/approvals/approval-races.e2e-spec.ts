import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import {
  askPending,
  createApprovalWorld,
  installBody,
  moreApprovers,
  uploadBody,
  type ApprovalWorld,
} from '../support/approvers.js';

/** Over HTTP, on a real database: concurrent answers to one request end in exactly one outcome. */
describe('approval races', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  let racers: string[];

  beforeAll(async () => {
    app = await startTestApp();
    w = await createApprovalWorld(app.baseUrl);
    racers = await moreApprovers(app.baseUrl, w.admin, 'racer', 'Biomed-Approvers', 10);
  });
  afterAll(async () => app.close());

  const votes = async (id: string) =>
    (await api(app.baseUrl, 'GET', `/api/v1/approvals/${id}`, { token: w.tokens.alice })).body;

  it('50 concurrent approve and reject calls on a one-approval request: one winner, 49 conflicts', async () => {
    const id = await askPending(app.baseUrl, w.ct, uploadBody('/opt/acme/race.bin'));
    const calls = Array.from({ length: 50 }, (_, i) =>
      api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/${i % 2 ? 'reject' : 'approve'}`, {
        token: racers[i % racers.length],
        body: {},
      }),
    );
    const results = await Promise.all(calls);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    const winner = results.find((r) => r.status === 200)!.body;
    const final = await votes(id);
    expect(final.status).toBe(winner.status);
    expect(final.votes).toHaveLength(1);
    const agent = await api(app.baseUrl, 'GET', `/api/v1/agent/decisions/${id}`, { token: w.ct });
    expect(agent.body.status).toBe(final.status);
    // Exactly one approval or rejection record in the audit trail.
    const audit = await api(app.baseUrl, 'GET', `/api/v1/audit?requestId=${id}`, { token: w.admin });
    expect(audit.body.items.filter((r: { eventType: string }) => r.eventType.startsWith('approval.'))).toHaveLength(1);
  });

  it('ten approvers at once on a two-approval request: exactly two approvals count, the rest 409', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('race-install'));
    const results = await Promise.all(
      racers.map((token) => api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token, body: {} })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    expect(results.filter((r) => r.status === 409)).toHaveLength(8);
    const final = await votes(id);
    expect(final).toMatchObject({ status: 'approved', approval: { given: 2 } });
  });

  it('the same approver double-clicking: one vote', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('race-double'));
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: w.tokens.alice, body: {} }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect((await votes(id)).approval.given).toBe(1);
  });
});
