/// <reference lib="dom" />
// (Functions passed to page.evaluate() run in Chromium: they use the DOM's globals.)
/**
 * The console's field actions (issue 14) in real Chromium against a real Gatehouse on
 * PostgreSQL: break-glass (checked as one types and by the server), "needs review" in the
 * inbox and the review, "End every live access" on a device's page; then, over plain HTTP
 * with the console's cookie, what a non-member of the emergency group sees and may post,
 * and "End this access now" on a request's page.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { decisionBody } from '../support/agent.js';
import { APPROVER_PASSWORD, askPending, createApprovalWorld, type ApprovalWorld } from '../support/approvers.js';
import { breakGlassPolicyDir } from '../support/break-glass-policies.js';
import { ADMIN_PASSWORD, api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { launchChromium, openConsole, PHONE, screenshots, seriousAxeViolations, signIn, submit } from './browser.js';

jest.setTimeout(60_000);

const REASON = 'Patient on the table, CT down, vendor fix needed now';
const SHORT = 'CT down, urgent!!!!'; // 19 characters

/** A software install on the CT scanner: ct-installs-break-glass (2 approvals, breakGlass, grants ≤ 120 min). */
const install = (pkg: string) =>
  decisionBody({
    action: 'software-install',
    target: { package: pkg, version: '1.0.0' },
    remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical' },
  });

describe('console: end now, break-glass and its review (Chromium)', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  let browser: Browser;
  /** erin: ER-On-Call (the emergency group) and Biomed-Approvers (CT in scope). */
  let erin: string;
  let brokenId: string;

  const apiView = async (id: string) =>
    (await api(app.baseUrl, 'GET', `/api/v1/approvals/${id}`, { token: w.admin })).body;
  const signedIn = async (path: string, username: string, password = APPROVER_PASSWORD) => {
    const window = await openConsole(browser, app.baseUrl);
    await window.page.goto(path);
    await signIn(window.page, username, password);
    expect(new URL(window.page.url()).pathname).toBe(path);
    return window;
  };
  const noSeriousAxe = async (page: Page) => expect(await seriousAxeViolations(page)).toEqual([]);

  beforeAll(async () => {
    app = await startTestApp({
      env: { POLICIES_DIR: breakGlassPolicyDir(), BREAK_GLASS_GROUPS: 'ER-On-Call', SESSION_IDLE_MINUTES: '1440' },
    });
    w = await createApprovalWorld(app.baseUrl);
    const res = await api(app.baseUrl, 'POST', '/api/v1/users', {
      token: w.admin,
      body: { username: 'erin', password: APPROVER_PASSWORD, groups: ['ER-On-Call', 'Biomed-Approvers'] },
    });
    expect(res.status).toBe(201);
    erin = await login(app.baseUrl, 'erin', APPROVER_PASSWORD);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('erin breaks the glass: a short reason is refused as she types and by the server, a proper one allows; bob sees "needs review" and accepts', async () => {
    const id = await askPending(app.baseUrl, w.ct, install('emergency-fix'));
    brokenId = id;
    const erinWindow = await signedIn(`/approvals/${id}`, 'erin');
    const page = erinWindow.page;
    expect(await page.locator('#break-glass-warning').textContent()).toContain(
      'Every approver of this request is notified at once',
    );
    expect(await page.getByLabel(/Also allow repeats for minutes/).getAttribute('max')).toBe('120');

    // As she types: the count says what is missing, and the browser does not send the form.
    await page.getByLabel(/Why this cannot wait/).fill(SHORT);
    expect(await page.locator('#break-glass-reason-count').textContent()).toBe(
      '1 more character needed (at least 20).',
    );
    await page.getByRole('button', { name: 'Break the glass and allow' }).click();
    expect(await page.locator('#break-glass-reason').evaluate((el) => (el as HTMLTextAreaElement).validity.valid)).toBe(
      false,
    );
    // The server checks too (a browser without the script, or a forged post): 400, the form again with her text.
    await page.locator('#break-glass-reason').evaluate((el) => el.closest('form')!.setAttribute('novalidate', ''));
    await submit(page, 'Break the glass and allow');
    expect(await page.locator('#break-glass-problems').textContent()).toContain('at least 20 characters');
    expect(await page.locator('#break-glass-reason').inputValue()).toBe(SHORT);
    expect(await apiView(id)).toMatchObject({ status: 'pending', breakGlass: null });
    await noSeriousAxe(page);
    await screenshots(page, 'break-glass');

    await page.getByLabel(/Why this cannot wait/).fill(REASON);
    expect(await page.locator('#break-glass-reason-count').textContent()).toBe('Long enough.');
    await page.getByLabel(/Also allow repeats for minutes/).fill('30');
    await submit(page, 'Break the glass and allow');
    expect(await page.locator('#decision-notice').textContent()).toContain('You broke the glass');
    expect(await page.locator('dl.facts').first().textContent()).toContain('Break-glass, needs review');
    // She may not review her own break-glass.
    expect(await page.getByRole('button', { name: 'Record the review' }).count()).toBe(0);
    expect(await apiView(id)).toMatchObject({
      status: 'approved',
      breakGlass: { by: 'erin', reason: REASON, grantMinutes: 30, needsReview: true },
    });

    // Another approver: flagged in the inbox, reviewed on the request's page (at phone width).
    const bobWindow = await signedIn('/approvals', 'bob');
    const bob = bobWindow.page;
    await bob.setViewportSize(PHONE);
    const card = bob.locator(`[data-review-id="${id}"]`);
    expect(await card.locator('.flag').textContent()).toBe('Needs review');
    expect(await card.textContent()).toContain(REASON);
    await noSeriousAxe(bob);
    await Promise.all([bob.waitForURL(`**/approvals/${id}`), card.locator('a').click()]);
    await bob.getByLabel(/Accept/).check();
    await bob.getByLabel('Comment (required)').fill('Checked with the ward: justified');
    await noSeriousAxe(bob);
    await submit(bob, 'Record the review');
    expect(await bob.locator('#decision-notice').textContent()).toContain('Your review was recorded');
    expect(await bob.locator('#break-glass-use + dl').textContent()).toContain('Accepted by bob at');
    expect((await apiView(id)).breakGlass).toMatchObject({
      needsReview: false,
      review: { verdict: 'accept', comment: 'Checked with the ward: justified', by: 'bob' },
    });
    await bob.goto('/approvals');
    expect(await bob.locator(`[data-review-id="${id}"]`).count()).toBe(0);
    expect([...erinWindow.cspViolations, ...bobWindow.cspViolations]).toEqual([]);
    await erinWindow.context.close();
    await bobWindow.context.close();
  });

  it("an administrator ends every live access from the device's page: ended, then nothing live", async () => {
    // The break-glass grant above (30 min) is live on ct-a1.
    const admin = await signedIn('/devices/ct-a1', 'admin', ADMIN_PASSWORD);
    const page = admin.page;
    await noSeriousAxe(page);
    // The device's page lists its requests, each linking to its page, with its status.
    const requests = page.locator('section', { hasText: 'Latest requests' });
    const asked = requests.locator('tbody tr', { has: page.locator(`a[href="/approvals/${brokenId}"]`) });
    expect(await asked.textContent()).toMatch(/software-install\s*jdoe@acme\.example\s*approved/);
    await page.getByLabel(/^Reason \(required/).fill('Scanner needed for an emergency scan');
    // Without the confirmation the browser does not send it.
    await page.getByRole('button', { name: 'End every live access' }).click();
    expect(new URL(page.url()).search).toBe('');
    await page.getByLabel('Yes, end it now').check();
    await submit(page, 'End every live access');
    expect(await page.getByRole('status').textContent()).toContain('Ended 1 live access:');
    expect((await api(app.baseUrl, 'GET', '/api/v1/grants', { token: w.admin })).body).toEqual([]);
    const ended = await api(app.baseUrl, 'GET', `/api/v1/audit?requestId=${brokenId}&eventType=access.ended`, {
      token: w.admin,
    });
    expect(ended.body.items).toEqual([
      expect.objectContaining({
        actorId: 'admin',
        details: expect.objectContaining({ reason: 'Scanner needed for an emergency scan', scope: 'device' }),
      }),
    ]);

    await page.getByLabel(/^Reason \(required/).fill('Checking again');
    await page.getByLabel('Yes, end it now').check();
    await submit(page, 'End every live access');
    expect(await page.getByRole('status').textContent()).toContain('Nothing was live');
    expect(admin.cspViolations).toEqual([]);
    await admin.context.close();
  });

  it('over HTTP: a non-member sees no break-glass form and gets 403; "End this access now" on a request’s page', async () => {
    const id = await askPending(app.baseUrl, w.ct, install('non-member'));
    const page = async (token: string, path: string) => {
      const res = await fetch(`${app.baseUrl}${path}`, { headers: { cookie: `gatehouse_session=${token}` } });
      expect(res.status).toBe(200);
      return res.text();
    };
    const post = async (token: string, path: string, fields: Record<string, string>) => {
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page(token, '/approvals'))![1];
      return fetch(`${app.baseUrl}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: `gatehouse_session=${token}`,
          origin: app.baseUrl,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      });
    };
    // alice approves CT requests but is not in ER-On-Call: she may decide, not break the glass.
    const alicePage = await page(w.tokens.alice, `/approvals/${id}`);
    expect(alicePage).toContain('Approve');
    expect(alicePage).not.toContain('Break the glass');
    expect(await page(erin, `/approvals/${id}`)).toContain('Break the glass');
    expect((await apiView(id)).approval.breakGlass).toBe(true);
    const alice = await api(app.baseUrl, 'GET', `/api/v1/approvals/${id}`, { token: w.tokens.alice });
    expect(alice.body).toMatchObject({ youMayDecide: true, youMayBreakGlass: false, youMayReview: false });
    const forged = await post(w.tokens.alice, `/approvals/${id}/break-glass`, { reason: REASON });
    expect(forged.status).toBe(403);
    const viaApi = await api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/break-glass`, {
      token: w.tokens.alice,
      body: { reason: REASON },
    });
    expect(viaApi.status).toBe(403);
    expect(await apiView(id)).toMatchObject({ status: 'pending', breakGlass: null });

    // A live grant (erin's break-glass through the API): its page offers "End this access now" to an approver.
    const broken = await api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/break-glass`, {
      token: erin,
      body: { reason: REASON, grantMinutes: 10 },
    });
    expect(broken.status).toBe(200);
    expect(await page(w.tokens.alice, `/approvals/${id}`)).toContain('End this access now');
    expect(await page(w.tokens.dave, `/approvals/${id}`)).not.toContain('End this access now'); // a viewer
    const path = `/approvals/${id}/end-access`;
    expect((await post(w.tokens.alice, path, { reason: 'Vendor done' })).status).toBe(400); // not confirmed
    const ended = await post(w.tokens.alice, path, { reason: 'Vendor done', confirm: 'yes' });
    expect(ended.headers.get('location')).toBe(`/approvals/${id}?done=ended`);
    const again = await post(w.tokens.alice, path, { reason: 'Vendor done', confirm: 'yes' });
    expect(again.headers.get('location')).toBe(`/approvals/${id}?done=nothing-live`);
    expect(await page(w.tokens.alice, `/approvals/${id}?done=nothing-live`)).toContain('Nothing was live');
    expect((await apiView(id)).grant.endedAt).not.toBeNull();
    expect((await post(w.tokens.dave, path, { reason: 'x', confirm: 'yes' })).status).toBe(403);

    // "End a vendor's access everywhere" on the live-grants page: administrators of all devices only.
    const another = await askPending(app.baseUrl, w.ct, install('enterprise-end'));
    expect(
      (
        await api(app.baseUrl, 'POST', `/api/v1/approvals/${another}/break-glass`, {
          token: erin,
          body: { reason: REASON, grantMinutes: 10 },
        })
      ).status,
    ).toBe(200);
    expect(await page(w.admin, '/grants')).toContain('End a vendor&#39;s access everywhere');
    expect(await page(w.tokens.alice, '/grants')).not.toContain('access everywhere');
    const vendor = { enterprise: 'acme-medical', reason: 'Contract suspended', confirm: 'yes' };
    expect((await post(w.tokens.alice, '/grants/end-enterprise', vendor)).status).toBe(403);
    expect((await post(w.admin, '/grants/end-enterprise', { ...vendor, confirm: '' })).status).toBe(400);
    const all = await post(w.admin, '/grants/end-enterprise', vendor);
    expect(all.headers.get('location')).toBe('/grants?done=enterprise-ended&ended=1');
    expect(await page(w.admin, all.headers.get('location')!)).toContain('Ended 1 live access of that vendor');
    expect((await apiView(another)).grant.endedAt).not.toBeNull();
    const none = await post(w.admin, '/grants/end-enterprise', vendor);
    expect(none.headers.get('location')).toBe('/grants?done=nothing-live');
  });
});
