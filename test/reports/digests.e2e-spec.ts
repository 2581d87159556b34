import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApprovalJobs } from '../../src/approvals/approval-jobs.js';
import { ReportJobs } from '../../src/reports/report-jobs.js';
import { decisionBody, enrollDevice } from '../support/agent.js';
import {
  APPROVER_PASSWORD,
  askPending,
  createApprovalWorld,
  installBody,
  uploadBody,
  type ApprovalWorld,
} from '../support/approvers.js';
import { startSmtpServer } from '../support/notification-peers.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { waitFor } from '../support/wait-for.js';
import { attachment, pdfText, policiesWithReports, REPORT_RECIPIENTS } from './report-fixture.js';

const logUpload = (over: Record<string, unknown> = {}) =>
  decisionBody({ action: 'log-upload', target: { path: '/var/log/gantry.log' }, ...over });

describe("device groups' digests (known requests, real SMTP server, PDF read back)", () => {
  let t: TestApp;
  let w: ApprovalWorld;
  let auditor: string;
  let lab: string;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let policies: ReturnType<typeof policiesWithReports>;
  // Monday 23 November 2026, 10:00 in Berlin.
  const clock = new TestClock(new Date('2026-11-23T09:00:00Z'));
  const ask = async (device: string, body: object, status: string) => {
    const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: device, body });
    expect(res.body.status).toBe(status);
  };
  const vote = (person: 'alice' | 'bob', id: string, verb: 'approve' | 'reject', body: object = {}) =>
    api(t.baseUrl, 'POST', `/api/v1/approvals/${id}/${verb}`, { token: w.tokens[person], body });
  const digest = (group: string, query: string, token = auditor) =>
    fetch(`${t.baseUrl}/api/v1/reports/digests/${group}${query}`, { headers: { authorization: `Bearer ${token}` } });
  const digestText = async (query: string) => {
    const res = await digest('ct-scanners', `${query}&format=pdf`);
    expect(res.status).toBe(200);
    return pdfText(Buffer.from(await res.arrayBuffer()));
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    policies = policiesWithReports();
    t = await startTestApp({
      clock,
      env: {
        POLICIES_DIR: policies.dir,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SMTP_ALLOW_PLAINTEXT: 'true',
        PUBLIC_URL: 'https://gatehouse.hosp.test',
        CONSOLE_TIME_ZONE: 'Europe/Berlin',
        SESSION_IDLE_MINUTES: '1440',
        SESSION_TTL_MINUTES: '10080',
      },
    });
    w = await createApprovalWorld(t.baseUrl);
    await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: w.admin,
      body: { username: 'ivy', password: APPROVER_PASSWORD, groups: ['IT-Security'] },
    });
    auditor = await login(t.baseUrl, 'ivy', APPROVER_PASSWORD);
    lab = await enrollDevice(t.baseUrl, w.admin, { deviceId: 'lab-7', model: 'cobas 8000' });

    // The CT scanner's Monday: two log uploads allowed (one a 10-minute session), one denied
    // (an enterprise without a contract), an install approved by alice and bob and worked for
    // 25 minutes, an upload rejected by alice, and one that expired with no answer.
    const first = logUpload();
    await ask(w.ct, first, 'allowed');
    await ask(w.ct, logUpload(), 'allowed');
    await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${first.requestId}/complete`, {
      token: w.ct,
      body: { outcome: 'succeeded', startedAt: '2026-11-23T09:00:00Z', endedAt: '2026-11-23T09:10:00Z' },
    });
    await ask(w.ct, logUpload({ remoteUser: { id: 'eve@rogue.example', enterprise: 'rogue' } }), 'denied');
    const install = await askPending(t.baseUrl, w.ct, installBody('digest-fw'));
    await vote('alice', install, 'approve');
    expect((await vote('bob', install, 'approve')).body.status).toBe('approved');
    clock.advance(25 * 60_000);
    await api(t.baseUrl, 'POST', `/api/v1/agent/decisions/${install}/complete`, {
      token: w.ct,
      body: { outcome: 'succeeded' },
    });
    const rejected = await askPending(t.baseUrl, w.ct, uploadBody('/opt/acme/a.bin'));
    expect((await vote('alice', rejected, 'reject', { comment: 'not today' })).body.status).toBe('rejected');
    await askPending(t.baseUrl, w.ct, uploadBody('/opt/acme/b.bin'));
    clock.advance(3 * 60 * 60_000); // past its approval time-out
    await t.app.get(ApprovalJobs).runOnce();
    // Not the CT scanners': the lab analyzer's request.
    await ask(lab, logUpload(), 'denied');
    // Tuesday: one more upload (in the week, not in Monday's digest).
    clock.set(new Date('2026-11-24T08:00:00Z'));
    await ask(w.ct, logUpload(), 'allowed');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    policies?.dispose();
  });

  it("counts Monday's requests of the CT scanners: by effect, denials, approvals by approver, expired, longest", async () => {
    const text = await digestText('?period=daily&date=2026-11-23');
    expect(text).toContain('Daily digest: ct-scanners, 2026-11-23');
    expect(text).toContain('From 23 Nov 2026, 00:00:00 (Europe/Berlin) to 24 Nov 2026, 00:00:00 (Europe/Berlin)');
    expect(text).toMatch(/Requests: 6\n/);
    expect(text).toMatch(/allowed: 2\n/);
    expect(text).toMatch(/denied: 1\n/);
    expect(text).toMatch(/pending: 3\n/);
    expect(text).toContain('eve@rogue.example');
    expect(text).toContain('rejected by alice');
    expect(text).toMatch(/alice \| 1 \| 1/);
    expect(text).toMatch(/bob \| 1 \| 0/);
    expect(text).toMatch(/Expired unanswered: 1\n/);
    // Longest first: the install (25 min from the grant), then the 10-minute upload.
    const sessions = [...text.matchAll(/\| (\d+ min \d+ s) \| succeeded/g)].map((m) => m[1]);
    expect(sessions).toEqual(['25 min 00 s', '10 min 00 s']);
    expect(text).toMatch(/Signed checkpoint: seq \d+/);
  });

  it('counts the week from Monday to Sunday, whatever day of it is named', async () => {
    const text = await digestText('?period=weekly&date=2026-11-26');
    expect(text).toContain('Weekly digest: ct-scanners, 2026-11-23');
    expect(text).toMatch(/Requests: 7\n/);
    expect(text).toMatch(/allowed: 3\n/);
  });

  it("e-mails yesterday's digest to the group's recipients once, when the day has ended", async () => {
    await t.app.get(ReportJobs).runOnce(); // Tuesday: Monday's digest
    await t.app.get(ReportJobs).runOnce(); // again the same day: nothing more
    const subject = '[Gatehouse] Daily digest: ct-scanners, 2026-11-23';
    await waitFor(() => smtp.mails.some((m) => m.subject === subject), "Monday's digest e-mail");
    const mails = smtp.mails.filter((m) => m.subject === subject);
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual(REPORT_RECIPIENTS);
    expect(pdfText(attachment(mails[0], 'application/pdf'))).toMatch(/Requests: 6\n/);
    const sent = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=report.sent', { token: auditor });
    expect(sent.body.items.map((r: { details: { report: string; date: string } }) => r.details)).toContainEqual(
      expect.objectContaining({ report: 'digest-daily', date: '2026-11-23', group: 'ct-scanners' }),
    );
  });

  it('serves digests to auditors and approvers of the group only; bad input is a 400', async () => {
    const html = await digest('ct-scanners', '?period=daily&date=2026-11-23');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await html.text()).toContain('<dt>Requests</dt><dd>6</dd>');
    expect((await digest('ct-scanners', '?date=2026-11-23', w.tokens.alice)).status).toBe(200);
    expect((await digest('ct-scanners', '', w.tokens.carol)).status).toBe(404); // lab approver
    expect((await digest('no-such-group', '')).status).toBe(404);
    expect((await digest('ct-scanners', '', w.tokens.dave)).status).toBe(403); // viewer
    for (const query of ['?period=hourly', '?date=2026-02-30', '?date=23.11.2026', '?format=docx', '?x=1']) {
      const res = await digest('ct-scanners', query);
      expect(res.status).toBe(400);
    }
  });
});
