import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

// Tuesday 09:00 in Paris: office hours for the example policy set.
const clock = new TestClock(new Date('2026-11-24T08:00:00Z'));

describe('agent decisions (example policy set)', () => {
  let t: TestApp;
  let admin: string;
  let ct: string;
  let injector: string;
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { DEVICE_RATE_BURST: '1000' } });
    admin = await login(t.baseUrl);
    ct = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-0042', model: 'SOMATOM X.cite', site: 'Main campus' });
    injector = await enrollDevice(t.baseUrl, admin, {
      deviceId: 'inj-0007',
      model: 'MEDRAD Stellant',
      site: 'Main campus',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const decide = (token: string, body: object) => api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token, body });
  const auditFor = async (requestId: string) =>
    (await api(t.baseUrl, 'GET', `/api/v1/audit?requestId=${requestId}`, { token: admin })).body.items;

  it('allows a tier-2 session in office hours, names the rule, and has recorded it', async () => {
    const body = decisionBody();
    const res = await decide(ct, body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requestId: body.requestId,
      decision: 'allow',
      status: 'allowed',
      policies: ['acme-sessions-office-hours'],
      validUntil: '2026-11-24T08:10:00.000Z', // 10 minutes: earlier than the window's end at 18:00
    });
    const [record] = await auditFor(body.requestId);
    expect(record).toMatchObject({
      eventType: 'decision',
      actorType: 'device',
      deviceId: 'ct-0042',
      action: 'remote-session',
      remoteUser: 'jdoe@acme.example',
      outcome: 'allowed',
      ruleIds: ['acme-sessions-office-hours'],
      policyVersion: expect.stringMatching(/^[0-9a-f]{64}$/),
      sourceAddress: '127.0.0.1',
    });
  });

  it('denies by rule and by default, naming what decided', async () => {
    const globex = await decide(ct, decisionBody({ remoteUser: { id: 'x@globex.example', enterprise: 'globex' } }));
    expect(globex.body).toMatchObject({ decision: 'deny', status: 'denied', policies: ['globex-denied-on-imaging'] });
    const unknown = await decide(
      ct,
      decisionBody({ remoteUser: { id: 'eve@unknown.example', enterprise: 'initech' } }),
    );
    expect(unknown.body).toMatchObject({ decision: 'deny', policies: [], reason: expect.stringMatching(/default/) });
  });

  it('answers the same request id with the same answer and records it once; another body is 409', async () => {
    const body = decisionBody();
    const first = await decide(ct, body);
    const again = await decide(ct, body);
    expect(again.body).toEqual(first.body);
    expect(await auditFor(body.requestId)).toHaveLength(1);
    const other = await decide(ct, { ...body, action: 'restart' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    const racing = await Promise.all(
      Array.from({ length: 10 }, () => decide(ct, decisionBody({ requestId: body.requestId }))),
    );
    expect(racing.every((r) => r.status === 409 || (r.status === 200 && r.body.decision === first.body.decision))).toBe(
      true,
    );
  });

  it('leaves an install pending until cancelled; the long poll returns at once on the change', async () => {
    const body = decisionBody({ action: 'software-install', target: { package: 'ct-fw', version: '4.2.1' } });
    const pending = await decide(ct, body);
    expect(pending.body).toMatchObject({
      decision: 'pending',
      status: 'pending',
      policies: ['acme-ct-installs'],
      pollAfterSeconds: 5,
    });
    expect(pending.body.reason).toMatch(/Needs 2 approval/);
    expect(pending.body.expiresAt).toBe('2026-11-24T09:00:00.000Z');
    const started = Date.now();
    const poll = api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}?wait=20`, { token: ct });
    await new Promise((r) => setTimeout(r, 200));
    const cancelled = await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${body.requestId}/cancel`, { token: ct });
    expect(cancelled.body).toMatchObject({ decision: 'deny', status: 'cancelled' });
    expect((await poll).body.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(5000);
    const twice = await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${body.requestId}/cancel`, { token: ct });
    expect(twice.status).toBe(409);
  });

  it('reads a pending request as expired at its expiry, even before any job runs', async () => {
    const body = decisionBody({ action: 'script-run', target: { path: '/opt/scripts/fix.sh' } });
    const pending = await decide(ct, body);
    expect(pending.body.status).toBe('pending');
    try {
      clock.set(new Date(pending.body.expiresAt));
      const res = await api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}`, { token: ct });
      expect(res.body).toMatchObject({ decision: 'deny', status: 'expired' });
      const cancel = await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${body.requestId}/cancel`, { token: ct });
      expect(cancel.status).toBe(409);
    } finally {
      clock.set(new Date('2026-11-24T08:00:00Z'));
      admin = await login(t.baseUrl);
    }
  });

  it('records what happened after an allow, once; 409 for anything not allowed', async () => {
    const allowed = decisionBody();
    await decide(ct, allowed);
    const outcome = {
      outcome: 'succeeded',
      startedAt: '2026-11-24T08:01:00Z',
      endedAt: '2026-11-24T08:20:00Z',
      detail: 'Session ended',
    };
    const done = await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${allowed.requestId}/complete`, {
      token: ct,
      body: outcome,
    });
    expect(done.status).toBe(200);
    expect(
      (
        await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${allowed.requestId}/complete`, {
          token: ct,
          body: outcome,
        })
      ).status,
    ).toBe(409);
    expect((await auditFor(allowed.requestId)).map((r: { eventType: string }) => r.eventType)).toEqual([
      'decision.completed',
      'decision',
    ]);
    const denied = decisionBody({ remoteUser: { id: 'x@globex.example', enterprise: 'globex' } });
    await decide(ct, denied);
    expect(
      (
        await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${denied.requestId}/complete`, {
          token: ct,
          body: outcome,
        })
      ).status,
    ).toBe(409);
  });

  it('shows a device only its own requests', async () => {
    const body = decisionBody();
    await decide(ct, body);
    const res = await api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}`, { token: injector });
    expect(res.status).toBe(404);
    expect(
      (await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${body.requestId}/cancel`, { token: injector })).status,
    ).toBe(404);
  });

  it('refuses bad requests with 4xx and records nothing', async () => {
    const before = (await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=decision&limit=500', { token: admin })).body
      .items.length;
    const bad = [
      decisionBody({ action: 'format-disk' }),
      decisionBody({ remoteUser: { enterprise: 'acme-medical' } }),
      decisionBody({ remoteUser: { id: 42 } }),
      decisionBody({ requestId: 'not-a-uuid' }),
      decisionBody({ remoteUser: { id: 'u'.repeat(300) } }),
      decisionBody({ status: 'approved' }),
      decisionBody({ target: { sha256: 'xyz' } }),
    ];
    for (const body of bad) expect((await decide(ct, body)).status).toBe(400);
    expect((await decide('ghd_wrong', decisionBody())).status).toBe(401);
    const after = (await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=decision&limit=500', { token: admin })).body
      .items.length;
    expect(after).toBe(before);
  });

  it("refuses NUL in a vendor's free text with 400, without failing the decisions committed beside it", async () => {
    const good = Array.from({ length: 10 }, () => decisionBody({ action: 'log-upload' }));
    const nul = decisionBody({ action: 'log-upload', context: { reason: 'collect\u0000logs' } });
    const [refused, ...answers] = await Promise.all([decide(ct, nul), ...good.map((b) => decide(ct, b))]);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { field: 'context.reason', problem: 'must not contain NUL characters' },
    ]);
    expect(answers.map((a) => a.status)).toEqual(good.map(() => 200));
    expect(await auditFor(nul.requestId)).toEqual([]);

    const allowed = decisionBody({ action: 'log-upload' });
    expect((await decide(ct, allowed)).status).toBe(200);
    const completed = await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${allowed.requestId}/complete`, {
      token: ct,
      body: { outcome: 'succeeded', detail: 'done\u0000' },
    });
    expect(completed.status).toBe(400);
  });

  it('refuses text that is not well-formed Unicode (a lone surrogate) with 400, failing nothing beside it', async () => {
    const good = Array.from({ length: 10 }, () => decisionBody({ action: 'log-upload' }));
    const lone = decisionBody({ action: 'log-upload', remoteUser: { id: 'fse\ud800', enterprise: 'acme-medical' } });
    const raw = JSON.stringify(lone); // JSON.stringify escapes the lone surrogate as \ud800
    const [refused, ...answers] = await Promise.all([
      fetch(`${t.baseUrl}/api/v1/agent/decisions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ct}`, 'content-type': 'application/json' },
        body: raw,
      }),
      ...good.map((b) => decide(ct, b)),
    ]);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toMatch(/'id' is not well-formed Unicode/);
    expect(answers.map((a) => a.status)).toEqual(good.map(() => 200));
    expect(await auditFor(lone.requestId)).toEqual([]);
  });

  it('treats a request id in upper case as the same request (repeat, long poll, audit)', async () => {
    const body = decisionBody({ action: 'log-upload' });
    const upper = { ...body, requestId: body.requestId.toUpperCase() };
    const first = await decide(ct, upper);
    expect(first).toMatchObject({ status: 200, body: { requestId: body.requestId, decision: 'allow' } });
    const repeat = await decide(ct, body);
    expect(repeat).toMatchObject({ status: 200, body: first.body });
    const read = await api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${upper.requestId}`, { token: ct });
    expect(read).toMatchObject({ status: 200, body: { requestId: body.requestId, decision: 'allow' } });
    expect((await auditFor(body.requestId)).length).toBe(1);
  });

  it('simulates a decision with every matching rule and why the others did not match', async () => {
    const res = await api(t.baseUrl, 'POST', '/api/v1/policies/simulate', {
      token: admin,
      body: {
        deviceId: 'ct-0042',
        action: 'remote-session',
        remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
        at: '2026-11-28T10:00:00+01:00',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: 'deny', decidedBy: 'default', policies: [] }); // CT on a Saturday
    expect(res.body.deviceGroups).toContain('ct-scanners');
    const office = res.body.notMatching.find((r: { ruleId: string }) => r.ruleId === 'acme-sessions-office-hours');
    expect(office.reason).toMatch(/outside windows/);
  });
});

describe('per-device rate limiting', () => {
  it('throttles a flooding device with 429 without starving another', async () => {
    const t = await startTestApp({ env: { DEVICE_RATE_BURST: '5', DEVICE_RATE_PER_SECOND: '1' } });
    try {
      const admin = await login(t.baseUrl);
      const noisy = await enrollDevice(t.baseUrl, admin, { deviceId: 'noisy', model: 'SOMATOM A' });
      const quiet = await enrollDevice(t.baseUrl, admin, { deviceId: 'quiet', model: 'SOMATOM B' });
      const flood = await Promise.all(
        Array.from({ length: 20 }, () =>
          api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: noisy, body: decisionBody() }),
        ),
      );
      expect(flood.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(14);
      expect(flood.find((r) => r.status === 429)!.headers.get('retry-after')).toBeTruthy();
      const other = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: quiet, body: decisionBody() });
      expect(other.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
