import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApprovalJobs } from '../../src/approvals/approval-jobs.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { testDatabaseKind } from '../support/test-db.js';
import { askPending, createApprovalWorld, installBody, uploadBody, type ApprovalWorld } from '../support/approvers.js';

describe('approvals', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  const clock = new TestClock(new Date('2026-11-23T10:00:00Z'));
  const agentGet = (id: string) => api(app.baseUrl, 'GET', `/api/v1/agent/decisions/${id}`, { token: w.ct });
  const approve = (token: string, id: string, body: object = {}) =>
    api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token, body });
  const reject = (token: string, id: string, body: object = {}) =>
    api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/reject`, { token, body });
  const detail = (token: string, id: string) => api(app.baseUrl, 'GET', `/api/v1/approvals/${id}`, { token });
  const decide = (body: object) => api(app.baseUrl, 'POST', '/api/v1/agent/decisions', { token: w.ct, body });

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '1440', SESSION_TTL_MINUTES: '10080' } });
    w = await createApprovalWorld(app.baseUrl);
  });
  afterAll(async () => app.close());

  it('needs two distinct approvers for a CT install; each counts once; the agent then reads approved', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody());
    const first = await approve(w.tokens.alice, id, { comment: 'Checked with the vendor' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: 'pending',
      approval: { required: 2, given: 1, stillNeeded: 1, approvers: ['Biomed-Approvers', 'Radiology-Leads'] },
    });
    expect((await approve(w.tokens.alice, id)).status).toBe(409); // counts once
    expect((await detail(w.tokens.alice, id)).body).toMatchObject({
      youMayDecide: false,
      whyNot: 'You have already answered this request',
    });
    expect((await agentGet(id)).body.status).toBe('pending');

    const second = await approve(w.tokens.bob, id);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'approved', approval: { given: 2, stillNeeded: 0 } });
    expect(second.body.votes.map((v: { username: string }) => v.username)).toEqual(['alice', 'bob']);
    expect(second.body.history.map((h: { event: string }) => h.event)).toEqual([
      'decision',
      'approval.approved',
      'approval.approved',
    ]);
    const answer = (await agentGet(id)).body;
    expect(answer).toMatchObject({ decision: 'allow', status: 'approved', policies: ['acme-ct-installs'] });
    expect(Date.parse(answer.validUntil)).toBe(clock.now().getTime() + 10 * 60_000);
    const late = await approve(w.tokens.mallory, id);
    expect(late.status).toBe(403); // her own identity: refused before the state is looked at
  });

  it('shows what an approver needs: device, action, remote user, target, ticket, rules, approvers, expiry', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('ct-recon'));
    const res = await detail(w.tokens.alice, id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requestId: id,
      status: 'pending',
      device: { id: 'ct-a1', model: 'SOMATOM X.cite', site: 'Main campus', groups: ['ct-scanners'] },
      action: 'software-install',
      remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical' },
      target: { package: 'ct-recon', version: '5.1.2' },
      ticket: 'INC-4711',
      vendorReason: 'Firmware fix for the gantry',
      rules: ['acme-ct-installs'],
      approval: { approvers: ['Biomed-Approvers', 'Radiology-Leads'], required: 2, maxGrantMinutes: 240 },
      expiresAt: new Date(clock.now().getTime() + 60 * 60_000).toISOString(),
      youMayDecide: true,
      votes: [],
      grant: null,
      eligibleApprovers: ['alice', 'bob'], // not mallory: it is her own identity
    });
    expect((await detail(w.tokens.carol, id)).status).toBe(404); // out of scope: not even visible
  });

  it('refuses self-approval, approvers outside the device scope or the approver groups, and viewers', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('ct-own'));
    const own = await approve(w.tokens.mallory, id);
    expect(own.status).toBe(403);
    expect(own.body.error.message).toMatch(/your own identity/);
    expect((await approve(w.tokens.carol, id)).status).toBe(403); // Lab-Leads: lab analyzers only
    expect((await approve(w.tokens.dave, id)).status).toBe(403); // viewer
    expect((await reject(w.tokens.carol, id)).status).toBe(403);
    expect((await approve(w.admin, id)).body.error.message).toMatch(/Only members of/); // admin, not an approver
    const after = await detail(w.tokens.alice, id);
    expect(after.body).toMatchObject({ status: 'pending', votes: [] });
    expect((await detail(w.tokens.mallory, id)).body).toMatchObject({ youMayDecide: false });
  });

  it('one rejection decides; afterwards nothing changes it (409)', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('ct-reject'));
    expect((await approve(w.tokens.alice, id)).status).toBe(200);
    const res = await reject(w.tokens.bob, id, { comment: 'Not during the clinic' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('rejected');
    expect((await agentGet(id)).body).toMatchObject({ decision: 'deny', status: 'rejected' });
    expect((await approve(w.tokens.mallory, id)).status).toBe(403);
    const again = await approve(w.tokens.bob, id);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('grants repeats of the same request for the shortest time the approvers gave, until ended', async () => {
    const body = installBody('ct-grant');
    const id = await askPending(app.baseUrl, w.ct, body);
    expect((await approve(w.tokens.alice, id, { grantMinutes: 241 })).status).toBe(400); // over maxGrantMinutes
    expect((await approve(w.tokens.alice, id, { grantMinutes: 120 })).status).toBe(200);
    const done = await approve(w.tokens.bob, id, { grantMinutes: 30 });
    expect(done.body.status).toBe('approved');
    expect(done.body.grant.expiresAt).toBe(new Date(clock.now().getTime() + 30 * 60_000).toISOString());

    // The same device, action, remote user and target: allowed by the grant, and audited as such.
    const repeat = await decide({ ...body, requestId: crypto.randomUUID() });
    expect(repeat.body).toMatchObject({ decision: 'allow', status: 'allowed', policies: ['acme-ct-installs'] });
    expect(repeat.body.reason).toContain(`approval of request ${id}`);
    const audit = await api(app.baseUrl, 'GET', `/api/v1/audit?requestId=${repeat.body.requestId}`, { token: w.admin });
    expect(audit.body.items[0]).toMatchObject({ eventType: 'decision', outcome: 'allowed' });
    expect(audit.body.items[0].details.grantId).toBe(done.body.grant.id);
    // Simulation applies the live grant as decisions do.
    const simulate = () =>
      api(app.baseUrl, 'POST', '/api/v1/policies/simulate', {
        token: w.admin,
        body: {
          deviceId: 'ct-a1',
          action: body.action,
          remoteUser: body.remoteUser,
          target: (body as { target?: unknown }).target,
        },
      });
    expect((await simulate()).body).toMatchObject({
      decision: 'allow',
      decidedBy: 'grant',
      grant: { id: done.body.grant.id, requestId: id },
      policies: ['acme-ct-installs'],
    });
    // Another target or another remote user is another request.
    expect((await decide(installBody('ct-other'))).body.status).toBe('pending');
    expect(
      (
        await decide({
          ...body,
          requestId: crypto.randomUUID(),
          remoteUser: { id: 'kim@acme.example', enterprise: 'acme-medical' },
        })
      ).body.status,
    ).toBe('pending');

    const grants = await api(app.baseUrl, 'GET', '/api/v1/grants', { token: w.tokens.bob });
    expect(grants.body.map((g: { requestId: string }) => g.requestId)).toContain(id);
    expect((await api(app.baseUrl, 'GET', '/api/v1/grants', { token: w.tokens.carol })).body).toEqual([]);
    expect(
      (await api(app.baseUrl, 'POST', `/api/v1/grants/${done.body.grant.id}/end`, { token: w.tokens.carol })).status,
    ).toBe(404);
    const end = await api(app.baseUrl, 'POST', `/api/v1/grants/${done.body.grant.id}/end`, { token: w.tokens.alice });
    expect(end.status).toBe(200);
    expect(end.body).toMatchObject({ live: false, endedBy: 'alice' });
    expect((await decide({ ...body, requestId: crypto.randomUUID() })).body.status).toBe('pending');
    expect((await simulate()).body).toMatchObject({ decision: 'pending', decidedBy: 'ask', grant: null });
    expect(
      (await api(app.baseUrl, 'POST', `/api/v1/grants/${done.body.grant.id}/end`, { token: w.tokens.alice })).status,
    ).toBe(409);
  });

  it('gives no grant unless every approval asked for one, and none where the rule allows none', async () => {
    const body = installBody('ct-half');
    const id = await askPending(app.baseUrl, w.ct, body);
    await approve(w.tokens.alice, id, { grantMinutes: 60 });
    expect((await approve(w.tokens.bob, id)).body).toMatchObject({ status: 'approved', grant: null });
    expect((await decide({ ...body, requestId: crypto.randomUUID() })).body.status).toBe('pending');

    const upload = await askPending(app.baseUrl, w.ct, uploadBody());
    const res = await approve(w.tokens.alice, upload, { grantMinutes: 10 });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('grantMinutes');
  });

  it('refuses bad input with 4xx and leaves the request as it was', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('ct-bad'));
    const cases: [string, object, number][] = [
      [id, { grantMinutes: -5 }, 400],
      [id, { grantMinutes: 0 }, 400],
      [id, { grantMinutes: 1.5 }, 400],
      [id, { grantMinutes: '30' }, 400],
      [id, { comment: 'x'.repeat(2001) }, 400],
      [id, { comment: 'looks fine\u0000' }, 400],
      [id, { status: 'approved' }, 400],
      [id, { comment: 'ok', extra: 1 }, 400],
      ['not-a-uuid', {}, 400],
      [crypto.randomUUID(), {}, 404],
    ];
    for (const [target, body, status] of cases) {
      const res = await approve(w.tokens.alice, target, body);
      expect([JSON.stringify(body), res.status, res.body.error?.code]).toEqual([
        JSON.stringify(body),
        status,
        status === 404 ? 'not_found' : 'invalid_request',
      ]);
    }
    expect((await detail(w.tokens.alice, id)).body).toMatchObject({ status: 'pending', votes: [] });
  });

  it('expires at timeoutMinutes: reads expired at that instant, the job records it, approvals then get 409', async () => {
    const id = await askPending(app.baseUrl, w.ct, uploadBody('/opt/acme/expiring.bin'));
    clock.advance(60 * 60_000 - 1);
    expect((await agentGet(id)).body.status).toBe('pending');
    clock.advance(1);
    expect((await agentGet(id)).body).toMatchObject({ decision: 'deny', status: 'expired' }); // job not run yet
    expect((await approve(w.tokens.alice, id)).status).toBe(409);
    // The job (run here, or by the app's own timer meanwhile) records the expiry, once.
    await app.app.get(ApprovalJobs).runOnce();
    await app.app.get(ApprovalJobs).runOnce();
    const view = await detail(w.tokens.alice, id);
    expect(view.body.status).toBe('expired');
    expect(view.body.history.filter((h: { event: string }) => h.event === 'decision.expired')).toHaveLength(1);
  });

  it('a cancelled request leaves the queue and cannot be approved', async () => {
    const id = await askPending(app.baseUrl, w.ct, uploadBody('/opt/acme/cancel.bin'));
    expect((await api(app.baseUrl, 'POST', `/api/v1/agent/decisions/${id}/cancel`, { token: w.ct })).status).toBe(200);
    expect((await approve(w.tokens.alice, id)).status).toBe(409);
    const view = await detail(w.tokens.alice, id);
    expect(view.body.status).toBe('cancelled');
    expect(view.body.history.map((h: { event: string }) => h.event)).toEqual(['decision', 'decision.cancelled']);
  });

  it('a direct jobs round waits for a round of this process that holds the jobs lock, instead of skipping', async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error('This test needs the PostgreSQL server: the embedded database takes no advisory locks');
    }
    const id = await askPending(app.baseUrl, w.ct, uploadBody('/opt/acme/expiring-later.bin'));
    const jobs = app.app.get(ApprovalJobs);
    // Another connection holds the request's row: a round that expires it waits inside its
    // transaction, holding the jobs' lock, until the row is let go.
    const holder = app.database.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query('SELECT 1 FROM decision_requests WHERE request_id = $1 FOR UPDATE', [id]);
    clock.advance(60 * 60_000);
    const earlier = jobs.runOnce();
    await new Promise((r) => setTimeout(r, 300));
    let laterDone = false;
    const later = jobs.runOnce().finally(() => (laterDone = true));
    await new Promise((r) => setTimeout(r, 300));
    // Without the queueing this call found the jobs' lock taken and returned at once, skipping.
    expect(laterDone).toBe(false);
    await holder.rollbackTransaction();
    await holder.release();
    expect(await earlier).toEqual([id]);
    expect(await later).toEqual([]);
  });
});
