import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApprovalJobs } from '../../src/approvals/approval-jobs.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { askPending, createApprovalWorld, installBody, type ApprovalWorld } from '../support/approvers.js';
import { startSmtpServer, startWebhookReceiver } from '../support/notification-peers.js';

const SECRET = 'webhook-secret-of-at-least-32-characters';

describe('approval notifications (real SMTP server, real webhook receiver)', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const clock = new TestClock(new Date('2026-11-23T10:00:00Z'));

  /** Polls until `check` passes; the test clock moves a second per round so retries come due. */
  async function eventually(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 100 && !check(); i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!check())
      throw new Error(
        `timed out waiting for ${what}: ${app.logs
          .filter((l) => /warn|error|Notif|Approval/i.test(l))
          .slice(-10)
          .join('\n')} mails=${smtp.mails.length} hooks=${hook.calls.length}`,
      );
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    hook = await startWebhookReceiver(2);
    app = await startTestApp({
      clock,
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SMTP_ALLOW_PLAINTEXT: 'true', // the test's SMTP server offers no STARTTLS
        SMTP_FROM: 'Gatehouse <gatehouse@hosp.test>',
        PUBLIC_URL: 'https://gatehouse.hosp.test/',
        WEBHOOK_URL: hook.url,
        WEBHOOK_SECRET: SECRET,
        NOTIFY_RETRY_BASE_SECONDS: '1',
        APPROVAL_REMINDER_MINUTES: '10',
        SESSION_IDLE_MINUTES: '1440',
      },
    });
    w = await createApprovalWorld(app.baseUrl);
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
    await hook.close();
  });

  it('e-mails the approvers who may decide, with the link; posts a signed webhook, retried after failures', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('notify-pkg'));
    await eventually(() => smtp.mails.some((m) => m.raw.includes(id)), 'the e-mail');
    const mail = smtp.mails.find((m) => m.raw.includes(id))!;
    // alice (Biomed-Approvers) and bob (Radiology-Leads); not mallory (her own request), carol (lab
    // only) or dave (viewer).
    expect(mail.to).toEqual(['alice@hosp.test', 'bob@hosp.test']);
    expect(mail.subject).toBe('[Gatehouse] Approval needed: software-install on ct-a1');
    // The link opens the request's page in the console.
    expect(mail.raw).toContain(`Open the request: https://gatehouse.hosp.test/approvals/${id}`);
    expect(mail.raw).toContain('INC-4711');

    await eventually(() => hook.calls.some((c) => c.answered === 204), 'the webhook to succeed');
    expect(hook.calls.map((c) => c.answered)).toEqual([500, 500, 204]);
    const delivered = hook.calls[2];
    const ts = String(delivered.headers['x-gatehouse-timestamp']);
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${delivered.body}`).digest('hex')}`;
    expect(delivered.headers['x-gatehouse-signature']).toBe(expected);
    expect(JSON.parse(delivered.body)).toMatchObject({ event: 'request.created', requestId: id, status: 'pending' });
    // Every call was the same delivery, and each failure is in the audit trail.
    expect(new Set(hook.calls.map((c) => c.headers['x-gatehouse-delivery'])).size).toBe(1);
    const audit = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=notification.failed', { token: w.admin });
    expect(audit.body.items.map((r: { outcome: string }) => r.outcome)).toEqual(['will-retry', 'will-retry']);

    // The failures held nothing up: the request was pending and is decided as usual; the outcome is sent.
    await api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: w.tokens.alice, body: {} });
    const done = await api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: w.tokens.bob, body: {} });
    expect(done.body.status).toBe('approved');
    await eventually(() => smtp.mails.some((m) => m.subject.includes('Request approved')), 'the outcome e-mail');
    await eventually(
      () => hook.calls.some((c) => c.body.includes('"event":"request.decided"') && c.body.includes(id)),
      'the outcome webhook',
    );
  });

  it('reminds the approvers before a request expires, and tells them when it has', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('remind-pkg'));
    await eventually(() => smtp.mails.some((m) => m.raw.includes(id)), 'the first e-mail');
    const reminders = async () =>
      (
        await app.app
          .get(DataSource)
          .query(`SELECT recipients FROM notifications WHERE request_id = $1 AND event = 'request.reminder'`, [id])
      ).length as number;
    await api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: w.tokens.alice, body: {} });
    clock.advance(49 * 60_000);
    await app.app.get(ApprovalJobs).runOnce();
    expect(await reminders()).toBe(0);
    clock.advance(60_000); // 10 minutes before the 60-minute time-out
    await app.app.get(ApprovalJobs).runOnce();
    expect(await reminders()).toBe(2); // e-mail and webhook
    await eventually(
      () => smtp.mails.some((m) => m.subject.startsWith('[Gatehouse] Reminder') && m.raw.includes(id)),
      'the reminder',
    );
    clock.advance(10 * 60_000);
    await app.app.get(ApprovalJobs).runOnce();
    await eventually(
      () => smtp.mails.some((m) => m.subject.includes('Request expired') && m.raw.includes(id)),
      'expiry',
    );
    // The reminder goes to those who have not answered yet (alice approved).
    expect(smtp.mails.find((m) => m.subject.startsWith('[Gatehouse] Reminder') && m.raw.includes(id))?.to).toEqual([
      'bob@hosp.test',
    ]);
    expect(smtp.mails.filter((m) => m.raw.includes(id)).map((m) => m.subject.split(',')[0].split(':')[0])).toEqual([
      '[Gatehouse] Approval needed',
      '[Gatehouse] Reminder',
      '[Gatehouse] Request expired',
    ]);
  });

  it('tells the approvers when the vendor cancels', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('cancel-pkg'));
    await eventually(() => smtp.mails.some((m) => m.raw.includes(id)), 'the first e-mail');
    expect((await api(app.baseUrl, 'POST', `/api/v1/agent/decisions/${id}/cancel`, { token: w.ct })).status).toBe(200);
    await eventually(
      () =>
        smtp.mails.some(
          (m) => m.subject === '[Gatehouse] Request cancelled: software-install on ct-a1' && m.raw.includes(id),
        ),
      'the cancellation e-mail',
    );
  });
});
