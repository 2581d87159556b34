import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import {
  APPROVER_PASSWORD,
  askPending,
  createApprovalWorld,
  uploadBody,
  type ApprovalWorld,
} from '../support/approvers.js';
import { decisionBody } from '../support/agent.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { launchChromium, openConsole, screenshots, seriousAxeViolations, signIn, submit } from './browser.js';

jest.setTimeout(180_000);

/** The auditor's pages, in real Chromium, on a request that was asked, approved and completed. */
describe('console: audit trail, a request story, the chain (auditor)', () => {
  let app: TestApp;
  let browser: Browser;
  let world: ApprovalWorld;
  let requestId: string;

  beforeAll(async () => {
    app = await startTestApp({ env: { CONSOLE_TIME_ZONE: 'Europe/Berlin' } });
    browser = await launchChromium();
    world = await createApprovalWorld(app.baseUrl);
    const created = await api(app.baseUrl, 'POST', '/api/v1/users', {
      token: world.admin,
      body: { username: 'ivy', password: APPROVER_PASSWORD, groups: ['IT-Security'] },
    });
    expect(created.status).toBe(201);
    requestId = await askPending(app.baseUrl, world.ct, uploadBody());
    const approved = await api(app.baseUrl, 'POST', `/api/v1/approvals/${requestId}/approve`, {
      token: world.tokens.alice,
      body: { comment: 'Checked with the ward' },
    });
    expect(approved.status).toBe(200);
    const completed = await api(app.baseUrl, 'POST', `/api/v1/agent/decisions/${requestId}/complete`, {
      token: world.ct,
      body: { outcome: 'succeeded', detail: 'Upload verified' },
    });
    expect(completed.status).toBeLessThan(300);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('finds the approved request by its id and sees its whole story', async () => {
    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl);
    await page.goto('/sign-in');
    await signIn(page, 'ivy', APPROVER_PASSWORD);
    const nav = page.getByRole('navigation', { name: 'Main' });
    // An auditor reads; nothing here lets them change rules or devices.
    expect(await nav.getByRole('link', { name: 'Audit trail' }).count()).toBe(1);
    await nav.getByRole('link', { name: 'Audit trail' }).click();
    await page.waitForLoadState('load');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'auditor-trail');

    await page.getByLabel('Request id').fill(requestId.toUpperCase());
    await submit(page, 'Search');
    const rows = page.locator('tbody tr');
    const events = await rows.locator('td:nth-child(3)').allTextContents();
    expect(events).toEqual(['decision.completed', 'approval.approved', 'decision']);
    expect(await rows.count()).toBe(events.length);
    await rows
      .first()
      .getByRole('link', { name: `Story of request ${requestId}` })
      .click();
    await page.waitForLoadState('load');

    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Request ${requestId}`);
    const asked = await page.locator('section', { hasText: 'Asked' }).first().textContent();
    expect(asked).toContain('ct-a1');
    expect(asked).toContain('file-upload');
    expect(asked).toContain('/opt/acme/update.bin');
    const decided = await page.locator('section', { hasText: 'Rules and decision' }).textContent();
    expect(decided).toContain('acme-file-transfers-ask');
    expect(decided).toMatch(/approved|allowed|completed/);
    // What only the trail's story (AuditStory, as the API answers it) tells: the vote's effect and
    // comment, how long the work took, and each record's step.
    const votes = await page.locator('section', { hasText: 'Votes' }).textContent();
    expect(votes).toMatch(/alice: approve at .+ \(approved\) — “Checked with the ward”/);
    const completion = await page.locator('section', { hasText: 'Grant and completion' }).textContent();
    expect(completion).toMatch(/Grant\s*—/); // this rule allows no grant
    expect(completion).toContain('succeeded');
    expect(completion).toMatch(/Work took\s*\d+ (s|min \d+ s)/);
    const steps = page.locator('section', { hasText: 'Every record' }).locator('tbody tr td:last-child');
    expect(await steps.allTextContents()).toEqual(['asked', 'vote', 'completed']);
    const story = await page.locator('section', { hasText: 'Every record' }).textContent();
    expect(story).toContain('approval.approved');
    expect(story).toContain('decision.completed');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'auditor-request-story');
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('searches by device, actor, event, outcome, remote user and time (in the hospital zone), and pages with a cursor', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/audit?actor=alice&event=approval.approved');
    await signIn(page, 'ivy', APPROVER_PASSWORD);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.goto('/audit?deviceId=ct-a1&outcome=success&event=device.enrolled');
    expect(await page.locator('tbody tr td:nth-child(5)').allTextContents()).toEqual(['ct-a1']);
    await page.goto('/audit?deviceId=no-such-device');
    expect(await page.locator('.empty').textContent()).toContain('No record matches');
    expect((await page.goto('/audit?from=yesterday'))!.status()).toBe(400);

    // By remote user: the vendor engineer's records only (column 6), as the API finds them.
    await page.goto('/audit?remoteUser=jdoe@acme.example');
    const byRemoteUser = await page.locator('tbody tr td:nth-child(6)').allTextContents();
    const fromApi = await api(app.baseUrl, 'GET', '/api/v1/audit?remoteUser=jdoe@acme.example&limit=500', {
      token: world.admin,
    });
    expect(byRemoteUser.length).toBeGreaterThanOrEqual(3);
    expect(byRemoteUser).toEqual(fromApi.body.items.map(() => 'jdoe@acme.example'));
    await page.goto('/audit?remoteUser=nobody@else.example');
    expect(await page.locator('.empty').textContent()).toContain('No record matches');

    // By time, typed as the hospital reads its clocks (Berlin): a window around alice's vote finds
    // it; the same wall times read as UTC (an hour later in December) would not.
    const vote = (
      await api(app.baseUrl, 'GET', `/api/v1/audit?eventType=approval.approved&limit=5`, { token: world.admin })
    ).body.items[0] as { seq: number; recordedAt: string };
    const berlin = (ms: number) =>
      new Intl.DateTimeFormat('sv-SE', {
        timeZone: 'Europe/Berlin',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      })
        .format(new Date(ms))
        .replace(' ', 'T');
    const votedAt = Date.parse(vote.recordedAt);
    const window = (fromMs: number, toMs: number) =>
      `/audit?event=approval.approved&from=${berlin(fromMs)}&to=${berlin(toMs)}`;
    await page.goto(window(votedAt - 60_000, votedAt + 120_000));
    expect(await page.locator('tbody tr td:first-child').allTextContents()).toEqual([String(vote.seq)]);
    expect(await page.getByLabel('From (Europe/Berlin)').inputValue()).toBe(berlin(votedAt - 60_000));
    await page.goto(window(votedAt - 3_600_000 - 60_000, votedAt - 3_600_000 + 120_000));
    expect(await page.locator('.empty').textContent()).toContain('No record matches');
    // 50 a page: twenty more decisions make the trail longer than a page.
    for (let i = 0; i < 20; i++) {
      const res = await api(app.baseUrl, 'POST', '/api/v1/agent/decisions', { token: world.ct, body: decisionBody() });
      expect(res.status).toBe(200);
    }
    const total = (await api(app.baseUrl, 'GET', '/api/v1/audit?limit=500', { token: world.admin })).body.items
      .length as number;
    expect(total).toBeGreaterThan(50);
    await page.goto('/audit');
    const first = await page.locator('tbody tr td:first-child').allTextContents();
    await page.getByRole('link', { name: 'Older records' }).click();
    await page.waitForLoadState('load');
    const second = await page.locator('tbody tr td:first-child').allTextContents();
    expect(first).toHaveLength(50);
    expect(Number(second[0])).toBe(Number(first[49]) - 1);
    await context.close();
  });

  it('shows the chain head and the last signed checkpoint, and verifies the whole chain against it', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/audit/chain');
    await signIn(page, 'ivy', APPROVER_PASSWORD);
    // Signed now, as the scheduler does every few minutes (the API's own endpoint).
    const signed = await api(app.baseUrl, 'POST', '/api/v1/audit/checkpoints', { token: world.admin });
    expect(signed.status).toBe(200);
    const cp = signed.body as { seq: number; hash: string; at: string; keyId: string };
    // Read with a token from before (signing in again would add a record and move the head).
    const head = (await api(app.baseUrl, 'GET', '/api/v1/audit/checkpoint', { token: world.admin })).body.head;
    await page.reload();
    expect(await page.locator('section', { hasText: 'Head of the chain' }).textContent()).toContain(head.hash);
    const checkpoint = page.locator('section', { hasText: 'Last signed checkpoint' });
    const facts = async () =>
      Object.fromEntries(
        await checkpoint
          .locator('dt')
          .evaluateAll((terms) => terms.map((t) => [t.textContent, t.nextElementSibling?.textContent])),
      ) as Record<string, string>;
    const shown = await facts();
    expect(shown.Record).toBe(String(cp.seq));
    expect(shown['Its hash']).toBe(cp.hash);
    expect(shown['Key id']).toBe(cp.keyId);
    // In the hospital's zone, named: the time as Berlin reads it.
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' });
    expect(shown.Signed).toContain(berlin.format(new Date(cp.at)));
    expect(shown.Signed).toContain('(Europe/Berlin)');
    expect(shown.Signature).toMatch(/^valid/);
    expect(shown['Chain verifies against it']).toMatch(/^not checked/);

    await submit(page, 'Verify the whole chain');
    expect(await page.locator('#verification').textContent()).toMatch(/^The chain checks out: \d+ records/);
    expect((await facts())['Chain verifies against it']).toBe(
      `yes: record ${cp.seq} is in the verified chain with this hash`,
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'auditor-chain');
    await context.close();
  });

  it("lets an approver read the stories of their own devices' requests only, as the API does", async () => {
    for (const [person, status] of [
      ['alice', 200], // Biomed-Approvers decide for the CT scanner
      ['carol', 404], // an approver for the lab only: out of scope reads as not found
    ] as const) {
      const { page, context } = await openConsole(browser, app.baseUrl);
      await page.goto('/sign-in');
      await signIn(page, person, APPROVER_PASSWORD);
      const res = await page.goto(`/audit/requests/${requestId}`);
      expect(res!.status()).toBe(status);
      const fromApi = await api(app.baseUrl, 'GET', `/api/v1/audit/requests/${requestId}`, {
        token: world.tokens[person],
      });
      expect(fromApi.status).toBe(status);
      await context.close();
    }
  });
});
