import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ReportJobs } from '../../src/reports/report-jobs.js';
import {
  APPROVER_PASSWORD,
  askPending,
  createApprovalWorld,
  installBody,
  type ApprovalWorld,
} from '../support/approvers.js';
import { startSmtpServer } from '../support/notification-peers.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { waitFor } from '../support/wait-for.js';
import { attachment, pdfText, policiesWithReports, REPORT_RECIPIENTS } from './report-fixture.js';

describe('intervention reports (real SMTP server, PDF read back with pdftotext)', () => {
  let t: TestApp;
  let w: ApprovalWorld;
  let auditor: string;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let policies: ReturnType<typeof policiesWithReports>;
  const clock = new TestClock(new Date('2026-11-23T10:00:00Z'));
  const agent = (path: string, body: object) =>
    api(t.baseUrl, 'POST', `/api/v1/agent/decisions${path}`, { token: w.ct, body });
  const approve = (person: 'alice' | 'bob', id: string, body: object) =>
    api(t.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: w.tokens[person], body });
  const report = (id: string, token: string, query = '') =>
    fetch(`${t.baseUrl}/api/v1/reports/interventions/${id}${query}`, { headers: { authorization: `Bearer ${token}` } });
  const reportMail = (id: string) =>
    smtp.mails.find((m) => m.subject.startsWith('[Gatehouse] Intervention report') && m.raw.includes(id));
  const reportsQueued = async (id: string) =>
    Number(
      (
        await t.app
          .get(DataSource)
          .query(`SELECT count(*) AS n FROM notifications WHERE event = 'report.intervention' AND request_id = $1`, [
            id,
          ])
      )[0].n,
    );

  beforeAll(async () => {
    smtp = await startSmtpServer();
    policies = policiesWithReports();
    t = await startTestApp({
      clock,
      env: {
        POLICIES_DIR: policies.dir,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SMTP_ALLOW_PLAINTEXT: 'true', // the test's SMTP server offers no STARTTLS
        PUBLIC_URL: 'https://gatehouse.hosp.test',
        CONSOLE_TIME_ZONE: 'Europe/Berlin',
        SESSION_IDLE_MINUTES: '1440',
        SESSION_TTL_MINUTES: '10080',
      },
    });
    w = await createApprovalWorld(t.baseUrl);
    const created = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: w.admin,
      body: { username: 'ivy', password: APPROVER_PASSWORD, groups: ['IT-Security'] },
    });
    expect(created.status).toBe(201);
    auditor = await login(t.baseUrl, 'ivy', APPROVER_PASSWORD);
    await t.app.get(ReportJobs).runOnce(); // the job's first round: reports start from here
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    policies?.dispose();
  });

  it('e-mails the report of a completed 2-of-N intervention with three actions; its PDF names the approvers and the duration', async () => {
    const body = installBody('report-fw');
    const id = await askPending(t.baseUrl, w.ct, body);
    clock.advance(60_000);
    expect((await approve('alice', id, { comment: 'Vendor called', grantMinutes: 60 })).status).toBe(200);
    clock.advance(60_000);
    const done = await approve('bob', id, { grantMinutes: 30 });
    expect(done.body.status).toBe('approved');
    const actions = [randomUUID(), randomUUID(), randomUUID()];
    for (const requestId of actions) {
      clock.advance(60_000);
      expect((await agent('', { ...body, requestId })).body.status).toBe('allowed');
    }
    // A repeat's completion is part of the grant's intervention: no report of its own.
    expect((await agent(`/${actions[0]}/complete`, { outcome: 'succeeded' })).status).toBe(200);
    clock.advance(4 * 60_000 + 30_000);
    expect((await agent(`/${id}/complete`, { outcome: 'succeeded', detail: 'Firmware 5.1.2 installed' })).status).toBe(
      200,
    );

    await waitFor(() => reportMail(id) !== undefined, 'the report e-mail');
    const mail = reportMail(id)!;
    expect(mail.to).toEqual(REPORT_RECIPIENTS);
    expect(mail.subject).toBe('[Gatehouse] Intervention report: software-install on ct-a1 (7 min 30 s)');
    expect(mail.raw).toContain(`https://gatehouse.hosp.test/api/v1/reports/interventions/${id}?format=pdf`);

    const text = pdfText(attachment(mail, 'application/pdf'));
    // Approved by both, 10:02 (the grant) to 10:09:30 UTC, in the hospital's zone.
    expect(text).toMatch(/Approved by: alice, bob/);
    expect(text).toMatch(/Duration: 7 min 30 s/);
    expect(text).toContain('Start: 23 Nov 2026, 11:02:00 (Europe/Berlin)');
    expect(text).toContain('End: 23 Nov 2026, 11:09:30 (Europe/Berlin)');
    expect(text).toContain('Vendor user: jdoe@acme.example');
    expect(text).toContain('Enterprise: acme-medical');
    expect(text).toContain('Ticket: INC-4711');
    expect(text).toContain('Outcome: succeeded');
    for (const action of actions) expect(text).toContain(action);
    expect(text).toMatch(/Vendor called/);

    // The sending is audited, with the checkpoint the report was built against (signed, at or after it).
    // (The record is written after the mail is handed over: wait for it rather than race it.)
    const sentRecords = () =>
      api(t.baseUrl, 'GET', `/api/v1/audit?eventType=report.sent&requestId=${id}`, { token: auditor });
    await waitFor(async () => (await sentRecords()).body.items.length > 0, 'the report.sent record');
    const sent = await sentRecords();
    expect(sent.body.items).toHaveLength(1);
    const details = sent.body.items[0].details as { recipients: string[]; lastSeq: number; checkpointSeq: number };
    expect(details.recipients).toEqual(REPORT_RECIPIENTS);
    expect(details.checkpointSeq).toBeGreaterThanOrEqual(details.lastSeq);
    expect(text).toContain(`Signed checkpoint: seq ${details.checkpointSeq}`);

    // At most once: the grant's end afterwards queues nothing more, whatever the job's rounds.
    const grantEnd = await api(t.baseUrl, 'POST', `/api/v1/grants/${done.body.grant.id}/end`, { token: w.tokens.bob });
    expect(grantEnd.status).toBe(200);
    await t.app.get(ReportJobs).runOnce();
    await t.app.get(ReportJobs).runOnce();
    expect(await reportsQueued(id)).toBe(1);
    expect(await reportsQueued(actions[0])).toBe(0);
    expect(smtp.mails.filter((m) => m.subject.includes('Intervention report') && m.raw.includes(id))).toHaveLength(1);
  });

  it('e-mails a report when a grant under which actions ran is ended, without a completion', async () => {
    const body = installBody('report-grant-end');
    const id = await askPending(t.baseUrl, w.ct, body);
    await approve('alice', id, { grantMinutes: 60 });
    const done = await approve('bob', id, { grantMinutes: 60 });
    clock.advance(60_000);
    expect((await agent('', { ...body, requestId: randomUUID() })).body.status).toBe('allowed');
    clock.advance(2 * 60_000);
    await t.app.get(ReportJobs).runOnce();
    expect(await reportsQueued(id)).toBe(0); // the grant is live and nothing was completed
    await api(t.baseUrl, 'POST', `/api/v1/grants/${done.body.grant.id}/end`, { token: w.tokens.alice });
    await waitFor(() => reportMail(id) !== undefined, 'the report e-mail');
    const text = pdfText(attachment(reportMail(id)!, 'application/pdf'));
    expect(text).toContain('Duration: 3 min 00 s');
    expect(text).toContain('Outcome: grant ended');
  });

  it('serves the report as HTML and PDF to auditors and approvers in scope only', async () => {
    const id = await askPending(
      t.baseUrl,
      w.ct,
      installBody('report-html', { context: { ticket: 'INC-9', reason: '<script>alert(1)</script>' } }),
    );
    const html = await report(id, auditor);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await html.text();
    expect(page).toContain('Intervention report: software-install on ct-a1');
    expect(page).toContain('&lt;script>alert(1)&lt;/script>');
    expect(page).not.toContain('<script>');
    expect(page).toContain('(Europe/Berlin)');

    const pdf = await report(id, w.tokens.alice, '?format=pdf'); // approver for CT scanners
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toBe(`attachment; filename="intervention-${id}.pdf"`);
    expect(pdfText(Buffer.from(await pdf.arrayBuffer()))).toContain('Ticket: INC-9');

    expect((await report(id, w.tokens.carol)).status).toBe(404); // approver for the lab only
    expect((await report(randomUUID(), auditor)).status).toBe(404);
    const viewer = await report(id, w.tokens.dave);
    expect(viewer.status).toBe(403);
    const bad = await report(id, auditor, '?format=docx');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    expect((await report('not-a-uuid', auditor)).status).toBe(400);
    expect((await fetch(`${t.baseUrl}/api/v1/reports/interventions/${id}`)).status).toBe(401);
  });

  it("links the report from the console's request page, and serves it there with the console's session", async () => {
    const id = await askPending(t.baseUrl, w.ct, installBody('report-console'));
    const console = (path: string, token: string) =>
      fetch(`${t.baseUrl}${path}`, { headers: { cookie: `gatehouse_session=${token}` }, redirect: 'manual' });
    const story = await (await console(`/audit/requests/${id}`, auditor)).text();
    expect(story).toContain(`href="/audit/requests/${id}/report?format=pdf"`);
    const pdf = await console(`/audit/requests/${id}/report?format=pdf`, auditor);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdfText(Buffer.from(await pdf.arrayBuffer()))).toContain('Intervention report: software-install on ct-a1');
    expect((await console(`/audit/requests/${id}/report?format=html`, auditor)).status).toBe(200);
    expect((await console(`/audit/requests/${id}/report?format=docx`, auditor)).status).toBe(404);
    expect((await console(`/audit/requests/${id}/report`, w.tokens.dave)).status).toBe(403); // viewer
  });
});
