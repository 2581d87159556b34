import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody } from '../support/agent.js';
import { APPROVER_PASSWORD, askPending, createApprovalWorld, type ApprovalWorld } from '../support/approvers.js';
import { breakGlassPolicyDir } from '../support/break-glass-policies.js';
import { startSmtpServer, startWebhookReceiver } from '../support/notification-peers.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'webhook-secret-of-at-least-32-characters';
const REASON = 'Patient on the table, CT down, vendor fix needed now';

const install = (pkg: string, remoteUserId = 'jdoe@acme.example') =>
  decisionBody({
    action: 'software-install',
    target: { package: pkg, version: '1.0.0' },
    remoteUser: { id: remoteUserId, enterprise: 'acme-medical' },
  });

describe('break-glass (POST /api/v1/approvals/{id}/break-glass, real SMTP server and webhook receiver)', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  /** erin: ER-On-Call and Biomed-Approvers (CT in scope); frank: ER-On-Call and Lab-Leads (lab only). */
  const t: Record<'erin' | 'frank', string> = { erin: '', frank: '' };

  const breakGlass = (token: string, id: string, body: unknown) =>
    api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/break-glass`, { token, body });
  const review = (token: string, id: string, body: unknown) =>
    api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/review`, { token, body });
  const needsReview = async (token: string) =>
    (await api(app.baseUrl, 'GET', '/api/v1/approvals?needsReview=true', { token })).body.items.map(
      (i: { requestId: string }) => i.requestId,
    ) as string[];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    hook = await startWebhookReceiver(0);
    app = await startTestApp({
      env: {
        POLICIES_DIR: breakGlassPolicyDir(),
        BREAK_GLASS_GROUPS: 'ER-On-Call',
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SMTP_ALLOW_PLAINTEXT: 'true', // the test's SMTP server offers no STARTTLS
        PUBLIC_URL: 'https://gatehouse.hosp.test/',
        WEBHOOK_URL: hook.url,
        WEBHOOK_SECRET: SECRET,
        SESSION_IDLE_MINUTES: '1440',
      },
    });
    w = await createApprovalWorld(app.baseUrl);
    for (const [name, groups] of [
      ['erin', ['ER-On-Call', 'Biomed-Approvers']],
      ['frank', ['ER-On-Call', 'Lab-Leads']],
    ] as const) {
      const res = await api(app.baseUrl, 'POST', '/api/v1/users', {
        token: w.admin,
        body: { username: name, password: APPROVER_PASSWORD, email: `${name}@hosp.test`, groups: [...groups] },
      });
      expect(res.status).toBe(201);
      t[name] = await login(app.baseUrl, name, APPROVER_PASSWORD);
    }
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
    await hook.close();
  });

  it('refuses a short or missing reason (400) and a grant beyond the rules’ maxGrantMinutes (400)', async () => {
    const id = await askPending(app.baseUrl, w.ct, install('short-reason'));
    const short = await breakGlass(t.erin, id, { reason: 'CT down, urgent!!!!' }); // 19 characters
    expect(short.status).toBe(400);
    expect(JSON.stringify(short.body)).toContain('at least 20 characters');
    expect((await breakGlass(t.erin, id, {})).status).toBe(400);
    expect((await breakGlass(t.erin, id, { reason: REASON, grantMinutes: 121 })).status).toBe(400);
    // Nothing happened: still pending, no break-glass.
    const still = await api(app.baseUrl, 'GET', `/api/v1/approvals/${id}`, { token: w.tokens.alice });
    expect(still.body).toMatchObject({ status: 'pending', breakGlass: null, approval: { breakGlass: true } });
  });

  it('refuses (403) outside the emergency group, outside the scope, on rules without breakGlass, and one’s own request', async () => {
    const id = await askPending(app.baseUrl, w.ct, install('refusals'));
    const notInGroup = await breakGlass(w.tokens.alice, id, { reason: REASON });
    expect(notInGroup.status).toBe(403);
    expect(notInGroup.body.error.message).toContain('ER-On-Call');
    expect((await breakGlass(t.frank, id, { reason: REASON })).status).toBe(403); // lab only
    const upload = await askPending(
      app.baseUrl,
      w.ct,
      decisionBody({ action: 'file-upload', target: { path: '/opt/x.bin' } }),
    );
    const noRule = await breakGlass(t.erin, upload, { reason: REASON });
    expect(noRule.status).toBe(403);
    expect(noRule.body.error.message).toContain('allow no break-glass');
    const own = await askPending(app.baseUrl, w.ct, install('own', 'erin@hosp.test'));
    const self = await breakGlass(t.erin, own, { reason: REASON });
    expect(self.status).toBe(403);
    expect(self.body.error.message).toContain('your own identity');
    for (const r of [id, upload, own]) {
      const view = await api(app.baseUrl, 'GET', `/api/v1/approvals/${r}`, { token: w.tokens.bob });
      expect(view.body.status).toBe('pending');
    }
  });

  it('allows alone with a proper reason: the long poll answers allow, approvers are e-mailed and the webhook called, review needed until another approver reviews', async () => {
    const id = await askPending(app.baseUrl, w.ct, install('emergency-fix'));
    // The approvers were told, and nobody answers.
    await waitFor(
      () => smtp.mails.some((m) => m.subject.startsWith('[Gatehouse] Approval needed') && m.raw.includes(id)),
      'the first e-mail',
    );
    const poll = api(app.baseUrl, 'GET', `/api/v1/agent/decisions/${id}?wait=30`, { token: w.ct });
    const res = await breakGlass(t.erin, id, { reason: REASON, grantMinutes: 30 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'approved',
      breakGlass: { by: 'erin', reason: REASON, grantMinutes: 30, needsReview: true, review: null },
    });
    expect(res.body.grant).not.toBeNull();
    expect((await poll).body).toMatchObject({ decision: 'allow', status: 'approved' });
    // A second break-glass finds it decided.
    expect((await breakGlass(t.erin, id, { reason: REASON })).status).toBe(409);

    // Every approver of the rule in scope is e-mailed at once (not mallory: the request is made
    // under her identity, so she may not decide it); the webhook gets the event.
    await waitFor(() => smtp.mails.some((m) => m.subject.includes('Break-glass') && m.raw.includes(id)), 'the e-mail');
    const mail = smtp.mails.find((m) => m.subject.includes('Break-glass') && m.raw.includes(id))!;
    expect(mail.subject).toBe('[Gatehouse] Break-glass by erin, review needed: software-install on ct-a1');
    expect(mail.to).toEqual(['alice@hosp.test', 'bob@hosp.test', 'erin@hosp.test']);
    expect(mail.raw).toContain(`Their reason: ${REASON}`);
    await waitFor(
      () => hook.calls.some((c) => c.headers['x-gatehouse-event'] === 'request.break-glass' && c.body.includes(id)),
      'the webhook',
    );
    // The outcome e-mail (request.decided) names who allowed it.
    await waitFor(
      () => smtp.mails.some((m) => m.subject.startsWith('[Gatehouse] Request approved') && m.raw.includes(id)),
      'the outcome e-mail',
    );
    const outcome = smtp.mails.find((m) => m.subject.startsWith('[Gatehouse] Request approved') && m.raw.includes(id))!;
    expect(outcome.raw).toContain('Decided by:   erin');
    const call = hook.calls.find(
      (c) => c.headers['x-gatehouse-event'] === 'request.break-glass' && c.body.includes(id),
    )!;
    expect(JSON.parse(call.body)).toMatchObject({
      requestId: id,
      status: 'approved',
      breakGlass: { by: 'erin', reason: REASON, grantMinutes: 30 },
    });

    // Listed as needing review; the break-glass person cannot review it, nor can a non-approver.
    expect(await needsReview(w.tokens.bob)).toContain(id);
    expect((await review(t.erin, id, { verdict: 'accept', comment: 'fine' })).status).toBe(403);
    expect((await review(t.frank, id, { verdict: 'accept', comment: 'fine' })).status).toBe(403);
    expect((await review(w.tokens.bob, id, { verdict: 'maybe', comment: 'x' })).status).toBe(400);
    expect((await review(w.tokens.bob, id, { verdict: 'accept' })).status).toBe(400);
    const reviewed = await review(w.tokens.bob, id, { verdict: 'incident', comment: 'No ticket: raise INC' });
    expect(reviewed.status).toBe(200);
    expect(reviewed.body.breakGlass).toMatchObject({
      needsReview: false,
      review: { verdict: 'incident', comment: 'No ticket: raise INC', by: 'bob' },
    });
    expect(await needsReview(w.tokens.bob)).not.toContain(id);
    expect((await review(w.tokens.alice, id, { verdict: 'accept', comment: 'late' })).status).toBe(409);

    // The audit trail and the request's story tell both.
    const trail = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=approval.break-glass', { token: w.admin });
    expect(trail.body.items).toEqual([
      expect.objectContaining({
        requestId: id,
        actorId: 'erin',
        outcome: 'approved',
        details: expect.objectContaining({ reason: REASON, grantMinutes: 30 }),
      }),
    ]);
    const story = await api(app.baseUrl, 'GET', `/api/v1/audit/requests/${id}`, { token: w.admin });
    const steps = (story.body.events as { step: string; details: Record<string, unknown> }[]).filter((e) =>
      e.step.startsWith('break-glass'),
    );
    expect(steps.map((s) => s.step)).toEqual(['break-glass', 'break-glass-review']);
    expect(steps[1].details).toMatchObject({
      verdict: 'incident',
      comment: 'No ticket: raise INC',
      breakGlassBy: 'erin',
    });

    // And so do the reports: the request's intervention report and the device group's digest.
    const report = async (path: string) => {
      const res = await fetch(`${app.baseUrl}${path}`, { headers: { authorization: `Bearer ${w.admin}` } });
      expect(res.status).toBe(200);
      return (await res.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    };
    const intervention = await report(`/api/v1/reports/interventions/${id}?format=html`);
    expect(intervention).toMatch(/Final answer approved \(break-glass\)/);
    expect(intervention).toMatch(/Allowed alone by erin at /);
    expect(intervention).toContain(REASON);
    expect(intervention).toMatch(/Review incident by bob at .+? \(UTC\): No ticket: raise INC/);
    const today = new Date().toISOString().slice(0, 10);
    const digest = await report(`/api/v1/reports/digests/ct-scanners?period=daily&date=${today}&format=html`);
    expect(digest).toMatch(/Break-glass uses 1 /);
    expect(digest).toContain(`${id} ct-a1 software-install erin ${REASON} incident by bob`);
  });
});
