import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { askPending, createApprovalWorld, type ApprovalWorld } from '../support/approvers.js';
import { withTwoReplicas } from '../support/replicas.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

/** Monday 11:00 in Paris: inside the office-hours windows of the example policies (acme-medical.yaml). */
const MONDAY_MORNING = new Date('2026-11-23T10:00:00Z');

describe('end now (issue 14)', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  const clock = new TestClock(MONDAY_MORNING);
  const decide = (body: object) => api(app.baseUrl, 'POST', '/api/v1/agent/decisions', { token: w.ct, body });
  const heartbeat = () => api(app.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: w.ct, body: {} });
  const endAccess = (token: string, id: string, body: object) =>
    api(app.baseUrl, 'POST', `/api/v1/access/${id}/end`, { token, body });
  const complete = (id: string, outcome = 'aborted') =>
    api(app.baseUrl, 'POST', `/api/v1/agent/decisions/${id}/complete`, { token: w.ct, body: { outcome } });
  const auditOf = async (id: string) =>
    (await api(app.baseUrl, 'GET', `/api/v1/audit?requestId=${id}&sort=oldest`, { token: w.admin })).body.items as {
      eventType: string;
      actorId: string;
      outcome: string;
      details: Record<string, unknown>;
    }[];
  /** A tier-2 Acme session on the CT scanner: allowed in office hours by acme-sessions-office-hours. */
  const allowedSession = async () => {
    const body = decisionBody();
    const res = await decide(body);
    expect(res.body).toMatchObject({ decision: 'allow', policies: ['acme-sessions-office-hours'] });
    return body.requestId;
  };

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '1440', SESSION_TTL_MINUTES: '10080' } });
    w = await createApprovalWorld(app.baseUrl);
  });
  afterAll(async () => app.close());

  it('a long poll on a pending session returns as soon as it is approved (it waits on only when it began on a live one)', async () => {
    const body = decisionBody({
      remoteUser: { id: 'kim@acme.example', enterprise: 'acme-medical', groups: ['tier1'] },
    });
    expect((await decide(body)).body).toMatchObject({ decision: 'pending', policies: ['acme-tier1-sessions-ask'] });
    const poll = api(app.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}?wait=30`, { token: w.ct });
    await new Promise((r) => setTimeout(r, 300)); // the poll is waiting (it would answer pending at once otherwise)
    const approvedAt = Date.now();
    const approve = api(app.baseUrl, 'POST', `/api/v1/approvals/${body.requestId}/approve`, {
      token: w.tokens.alice,
      body: {},
    });
    expect((await approve).status).toBe(200);
    expect((await poll).body).toMatchObject({ decision: 'allow', status: 'approved' });
    expect(Date.now() - approvedAt).toBeLessThan(5000); // not the 30 s the poll may wait
    expect((await complete(body.requestId, 'succeeded')).status).toBe(200); // not live for the tests below
  });

  it('reaches a long-polling agent in under 1 s; the agent confirms with complete, and it is audited', async () => {
    const sessionBody = decisionBody();
    expect((await decide(sessionBody)).body.decision).toBe('allow');
    const id = sessionBody.requestId;
    expect((await heartbeat()).body).toEqual({ pollIntervalSeconds: 30, end: [] });
    const poll = api(app.baseUrl, 'GET', `/api/v1/agent/decisions/${id}?wait=30`, { token: w.ct });
    let polledAt = 0;
    void poll.then(() => (polledAt = Date.now()));
    // A live session's long poll waits: it has not answered before the end is sent.
    await new Promise((r) => setTimeout(r, 300));
    const endedAt = Date.now();
    const ended = await endAccess(w.tokens.alice, id, { reason: 'vendor finished' });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({
      reason: 'Ended by alice: vendor finished',
      ended: [{ requestId: id, deviceId: 'ct-a1', session: true, grantId: null }],
    });
    const answer = (await poll).body;
    expect(polledAt).toBeGreaterThanOrEqual(endedAt);
    expect(polledAt - endedAt).toBeLessThan(1000);
    expect(answer).toMatchObject({ requestId: id, ended: true, endReason: 'Ended by alice: vendor finished' });
    // A retry of the same request reads the same.
    const retry = await decide({ ...sessionBody, requestId: id });
    expect(retry.body).toMatchObject({ requestId: id, ended: true, endReason: 'Ended by alice: vendor finished' });

    expect((await heartbeat()).body.end).toEqual([{ requestId: id, reason: 'Ended by alice: vendor finished' }]);
    expect((await endAccess(w.tokens.bob, id, { reason: 'again' })).status).toBe(409); // already ended
    expect((await complete(id)).status).toBe(200);
    expect((await heartbeat()).body.end).toEqual([]); // confirmed: no longer listed
    const records = await auditOf(id);
    expect(records.map((r) => r.eventType)).toEqual([
      'decision',
      'access.ended',
      'decision.completed',
      'access.end.confirmed',
    ]);
    expect(records[1]).toMatchObject({
      actorId: 'alice',
      details: { reason: 'vendor finished', scope: 'request', session: true, grantId: null },
    });
    expect(records[3]).toMatchObject({ actorId: 'ct-a1', outcome: 'aborted', details: { endedBy: 'alice' } });
  });

  it('reaches a heartbeat-only agent at its next beat: every live access of the device', async () => {
    const first = await allowedSession();
    const second = await allowedSession();
    const done = await allowedSession();
    expect((await complete(done, 'succeeded')).status).toBe(200); // completed: not live, not ended
    expect((await heartbeat()).body.end).toEqual([]);
    const res = await api(app.baseUrl, 'POST', '/api/v1/devices/ct-a1/end-access', {
      token: w.admin,
      body: { reason: 'scanner needed for an emergency' },
    });
    expect(res.status).toBe(200);
    expect(res.body.ended.map((e: { requestId: string }) => e.requestId).sort()).toEqual([first, second].sort());
    const reason = 'Ended by admin: scanner needed for an emergency';
    expect((await heartbeat()).body.end).toEqual(
      expect.arrayContaining([
        { requestId: first, reason },
        { requestId: second, reason },
      ]),
    );
    expect((await heartbeat()).body.end).toHaveLength(2); // listed at every beat until confirmed
    expect((await auditOf(first))[1]).toMatchObject({ eventType: 'access.ended', details: { scope: 'device' } });
    // Still listed past the session's validUntil (its latest start: it runs on), until it is
    // confirmed or a day has passed since the allow.
    clock.advance(10 * 60_000);
    try {
      expect((await heartbeat()).body.end).toHaveLength(2);
    } finally {
      clock.set(MONDAY_MORNING);
    }
    clock.advance(24 * 3600_000);
    try {
      expect((await heartbeat()).body.end).toEqual([]);
    } finally {
      clock.set(MONDAY_MORNING);
    }
    const again = await api(app.baseUrl, 'POST', '/api/v1/devices/ct-a1/end-access', {
      token: w.admin,
      body: { reason: 'nothing left' },
    });
    expect(again.body.ended).toEqual([]);
    for (const id of [first, second]) expect((await complete(id)).status).toBe(200);
  });

  it('ends the grant an approval made: its sessions stop and a repeat under it is denied', async () => {
    const body = decisionBody({
      remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier1'] },
    });
    const id = await askPending(app.baseUrl, w.ct, body);
    const approved = await api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, {
      token: w.tokens.alice,
      body: { grantMinutes: 60 },
    });
    expect(approved.body.status).toBe('approved');
    const repeat = { ...body, requestId: crypto.randomUUID() };
    expect((await decide(repeat)).body).toMatchObject({ decision: 'allow', status: 'allowed' });

    const res = await endAccess(w.tokens.bob, id, { reason: 'engineer left the call' });
    expect(res.status).toBe(200);
    expect(res.body.ended).toEqual(
      expect.arrayContaining([
        { requestId: id, deviceId: 'ct-a1', session: true, grantId: approved.body.grant.id },
        { requestId: repeat.requestId, deviceId: 'ct-a1', session: true, grantId: null },
      ]),
    );
    expect(res.body.ended).toHaveLength(2);
    const grants = await api(app.baseUrl, 'GET', '/api/v1/grants?live=false', { token: w.admin });
    expect(grants.body.find((g: { id: string }) => g.id === approved.body.grant.id)).toMatchObject({
      live: false,
      endedBy: 'bob',
    });
    // A repeat is now denied, not sent to the approvers again, and says why.
    const later = await decide({ ...body, requestId: crypto.randomUUID() });
    expect(later.body).toMatchObject({ decision: 'deny', status: 'denied' });
    expect(later.body.reason).toContain(
      `approval of request ${id} for repeats was ended (Ended by bob: engineer left the call)`,
    );
    const ends = (await heartbeat()).body.end.map((e: { requestId: string }) => e.requestId);
    expect(ends.sort()).toEqual([id, repeat.requestId].sort());
    for (const r of [id, repeat.requestId]) expect((await complete(r)).status).toBe(200);
    // The request's story (auditors) tells both ends and both confirmations.
    const story = await api(app.baseUrl, 'GET', `/api/v1/audit/requests/${id}`, { token: w.admin });
    const steps = (story.body.events as { step: string; requestId: string }[])
      .filter((e) => e.step === 'access-ended' || e.step === 'end-confirmed')
      .map((e) => `${e.step} ${e.requestId === id ? 'approved' : 'repeat'}`);
    expect(steps.sort()).toEqual([
      'access-ended approved',
      'access-ended repeat',
      'end-confirmed approved',
      'end-confirmed repeat',
    ]);
    // Once the grant would have expired, the same request goes to the approvers again.
    clock.advance(61 * 60_000);
    try {
      expect((await decide({ ...body, requestId: crypto.randomUUID() })).body.status).toBe('pending');
    } finally {
      clock.set(MONDAY_MORNING);
    }
  });

  it('ends every live access of a vendor enterprise (administrators of all devices only)', async () => {
    const id = await allowedSession();
    const body = { enterprise: 'acme-medical', reason: 'vendor incident' };
    expect((await api(app.baseUrl, 'POST', '/api/v1/access/end', { token: w.tokens.alice, body })).status).toBe(403);
    const globex = await api(app.baseUrl, 'POST', '/api/v1/access/end', {
      token: w.admin,
      body: { enterprise: 'globex', reason: 'vendor incident' },
    });
    expect(globex.body.ended).toEqual([]);
    const res = await api(app.baseUrl, 'POST', '/api/v1/access/end', { token: w.admin, body });
    expect(res.status).toBe(200);
    expect(res.body.ended).toEqual([{ requestId: id, deviceId: 'ct-a1', session: true, grantId: null }]);
    expect((await auditOf(id))[1]).toMatchObject({
      eventType: 'access.ended',
      details: { scope: 'enterprise', enterprise: 'acme-medical' },
    });
    expect((await complete(id)).status).toBe(200);
  });

  it('refuses people out of scope, viewers, bad input, and requests with nothing live', async () => {
    const id = await allowedSession();
    const reason = { reason: 'checking' };
    expect((await endAccess(w.tokens.carol, id, reason)).status).toBe(404); // lab only: not even visible
    expect((await endAccess(w.tokens.dave, id, reason)).status).toBe(403); // viewer
    const device = (token: string) =>
      api(app.baseUrl, 'POST', '/api/v1/devices/ct-a1/end-access', { token, body: reason });
    expect((await device(w.tokens.carol)).status).toBe(404);
    expect((await device(w.tokens.dave)).status).toBe(403);
    for (const bad of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 'a', extra: 1 }]) {
      const res = await endAccess(w.tokens.alice, id, bad);
      expect([bad, res.status, res.body.error.code]).toEqual([bad, 400, 'invalid_request']);
    }
    const missing = await endAccess(w.tokens.alice, crypto.randomUUID(), reason);
    expect(missing.status).toBe(404);
    const denied = decisionBody({ remoteUser: { id: 'someone@else.example' } });
    expect((await decide(denied)).body.decision).toBe('deny');
    const nothing = await endAccess(w.tokens.alice, denied.requestId, reason);
    expect([nothing.status, nothing.body.error.code]).toEqual([409, 'conflict']);
    expect((await auditOf(id)).map((r) => r.eventType)).toEqual(['decision']); // nothing was ended
    expect((await complete(id, 'succeeded')).status).toBe(200);
    expect((await endAccess(w.tokens.alice, id, reason)).status).toBe(409); // completed: not live
  });

  it('lists a session in `end` once the time window that allowed it has closed', async () => {
    const id = await allowedSession();
    expect((await heartbeat()).body.end).toEqual([]);
    clock.set(new Date('2026-11-23T16:59:00Z')); // 17:59 in Paris: still open (past validUntil, not completed)
    try {
      expect((await heartbeat()).body.end).toEqual([]);
      clock.set(new Date('2026-11-23T17:01:00Z')); // 18:01 in Paris: the window closed
      expect((await heartbeat()).body.end).toEqual([{ requestId: id, reason: 'time window closed' }]);
      expect((await heartbeat()).body.end).toEqual([{ requestId: id, reason: 'time window closed' }]);
      const read = await api(app.baseUrl, 'GET', `/api/v1/agent/decisions/${id}`, { token: w.ct });
      expect(read.body).toMatchObject({ ended: true, endReason: 'time window closed' });
      const records = await auditOf(id);
      expect(records.filter((r) => r.eventType === 'access.ended')).toEqual([
        expect.objectContaining({ actorId: 'system', details: expect.objectContaining({ scope: 'window' }) }),
      ]);
      expect((await complete(id)).status).toBe(200);
      expect((await heartbeat()).body.end).toEqual([]);
    } finally {
      clock.set(MONDAY_MORNING);
    }
  });
});

describe('end now across replicas', () => {
  it('wakes a long poll on another replica in under 1 s, and both list it in heartbeats', async () => {
    const clock = new TestClock(MONDAY_MORNING);
    await withTwoReplicas(
      async (a, b) => {
        const admin = await login(a.baseUrl);
        const ct = await enrollDevice(a.baseUrl, admin, { deviceId: 'ct-e1', model: 'SOMATOM X.cite' });
        const body = decisionBody();
        expect((await api(a.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body })).body.decision).toBe(
          'allow',
        );
        let polledAt = 0;
        const poll = api(a.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}?wait=30`, { token: ct });
        void poll.then(() => (polledAt = Date.now()));
        await new Promise((r) => setTimeout(r, 300));
        const endedAt = Date.now();
        const res = await api(b.baseUrl, 'POST', `/api/v1/access/${body.requestId}/end`, {
          token: await login(b.baseUrl),
          body: { reason: 'from the other replica' },
        });
        expect(res.status).toBe(200);
        expect((await poll).body).toMatchObject({ ended: true, endReason: 'Ended by admin: from the other replica' });
        expect(polledAt).toBeGreaterThanOrEqual(endedAt);
        expect(polledAt - endedAt).toBeLessThan(1000);
        // A replica started afterwards (as after a restart) lists it too: the end is stored, not remembered.
        const c = await startTestApp({ db: a.db, clock });
        try {
          const beat = await api(c.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: ct, body: {} });
          expect(beat.body.end).toEqual([
            { requestId: body.requestId, reason: 'Ended by admin: from the other replica' },
          ]);
        } finally {
          await c.close();
        }
        for (const replica of [a, b]) {
          const beat = await api(replica.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: ct, body: {} });
          expect(beat.body.end).toEqual([
            { requestId: body.requestId, reason: 'Ended by admin: from the other replica' },
          ]);
        }
      },
      { clock },
    );
  });
});
