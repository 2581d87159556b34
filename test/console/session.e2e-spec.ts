import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { ADMIN_PASSWORD, api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import {
  launchChromium,
  openConsole,
  overflowsHorizontally,
  PHONE,
  screenshots,
  seriousAxeViolations,
  signIn,
  submit,
} from './browser.js';

jest.setTimeout(120_000);

/** The console's foundation in real Chromium: sign-in, return to the page, sign-out, CSRF, CSP. */
describe('console: everyone (sign-in, sign-out, CSRF)', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({ env: { CONSOLE_TIME_ZONE: 'Europe/Berlin' } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('sends a signed-out visitor to sign in, then back to the page asked for, and signs out', async () => {
    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl);
    await page.goto('/grants?from=mail');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/grants?from=mail');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'sign-in');

    await signIn(page, 'admin', ADMIN_PASSWORD);
    expect(page.url()).toBe(`${app.baseUrl}/grants?from=mail`);
    const cookie = (await context.cookies()).find((c) => c.name === 'gatehouse_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
    // The console's session is the API's: the same token works as a bearer token.
    expect((await api(app.baseUrl, 'GET', '/api/v1/auth/me', { token: cookie.value })).status).toBe(200);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Inbox/ }).isVisible()).toBe(
      true,
    );
    const footer = await page.getByRole('contentinfo').textContent();
    expect(footer).toContain('Europe/Berlin');
    // What runs, as /health/ready says it: Gatehouse's version and the policy set in force.
    const ready = (await api(app.baseUrl, 'GET', '/health/ready')).body;
    expect(footer).toContain(`Gatehouse ${ready.version}`);
    expect(footer).toContain(`policy set ${ready.policyVersion.slice(0, 12)}`);

    await submit(page, 'Sign out');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect((await context.cookies()).find((c) => c.name === 'gatehouse_session')).toBeUndefined();
    expect((await api(app.baseUrl, 'GET', '/api/v1/auth/me', { token: cookie.value })).status).toBe(401);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('shows a wrong password on the form and audits it like the API', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl, PHONE);
    await page.goto('/sign-in');
    await signIn(page, 'admin', 'not-the-password');
    expect(await page.getByRole('alert').textContent()).toContain('Invalid user name or password');
    expect(await page.getByLabel('User name').inputValue()).toBe('admin');
    expect(await overflowsHorizontally(page)).toBe(false);
    const token = (
      await api(app.baseUrl, 'POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
      })
    ).body.accessToken;
    const audit = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=auth.login&limit=50', { token });
    const records = audit.body.items as { outcome: string; actorId: string }[];
    expect(records.some((r) => r.outcome === 'failure' && r.actorId === 'admin')).toBe(true);
    await context.close();
  });

  it('refuses a form without the CSRF token, and one from another origin, with 403 audited', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/sign-in');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const cookie = (await context.cookies()).find((c) => c.name === 'gatehouse_session')!.value;
    const form = (fields: Record<string, string>, origin: string) =>
      fetch(`${app.baseUrl}/sign-out`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: `gatehouse_session=${cookie}`,
          origin,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(fields).toString(),
      });
    const withoutToken = await form({}, app.baseUrl);
    expect(withoutToken.status).toBe(403);
    expect(await withoutToken.text()).toContain('CSRF');
    // The real token, read from the page, but sent from another site.
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    expect((await form({ _csrf: csrf }, 'https://evil.example')).status).toBe(403);
    expect((await form({ _csrf: 'x'.repeat(43) }, app.baseUrl)).status).toBe(403);
    const token = (
      await api(app.baseUrl, 'POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
      })
    ).body.accessToken;
    const audit = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=console.refused&limit=50', { token });
    const records = audit.body.items as any[];
    expect(records.filter((r) => r.actorId === 'admin' && r.outcome === 'failure')).toHaveLength(3);
    expect(records[0].details.httpRequestId).toEqual(expect.any(String));
    // Still signed in: none of the forged sign-outs worked; the real one does.
    expect((await api(app.baseUrl, 'GET', '/api/v1/auth/me', { token: cookie })).status).toBe(200);
    expect((await form({ _csrf: csrf }, app.baseUrl)).status).toBe(303);
    expect((await api(app.baseUrl, 'GET', '/api/v1/auth/me', { token: cookie })).status).toBe(401);
    await context.close();
  });

  it("says when the inbox's live updates are interrupted, and clears it when they are back", async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    const LIVE = '**/approvals/live';
    await page.route(LIVE, (route) => route.abort('connectionreset'));
    await page.goto('/approvals');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const problem = page.locator('#connection-problem');
    await problem.waitFor({ state: 'visible' });
    expect(await problem.textContent()).toContain('Live updates are interrupted');
    await page.unroute(LIVE);
    // The SSE extension tries again (0.5 s, 1 s, 2 s …): once the stream is open, the alert goes.
    await problem.waitFor({ state: 'hidden', timeout: 20_000 });
    await context.close();
  });

  it('serves pages with a strict CSP and only same-site next paths', async () => {
    const res = await fetch(`${app.baseUrl}/sign-in?next=//evil.example/x`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(res.headers.get('content-security-policy')).toContain("style-src 'self';");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(res.headers.get('vary')).toContain('HX-Request');
    expect(await res.text()).toContain('action="/sign-in"');
    // The API stays cookie-blind: the console's cookie is no credential there.
    expect(
      (await api(app.baseUrl, 'GET', '/api/v1/auth/me', { headers: { cookie: 'gatehouse_session=x' } })).status,
    ).toBe(401);
  });
});

describe('console: idle time-out and first-run setup', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('after the idle time-out, sends the person to sign in and back to the page they were going to', async () => {
    const clock = new TestClock(new Date());
    const app = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '15' } });
    try {
      const { page, context } = await openConsole(browser, app.baseUrl);
      // Signed in on a page without the live stream (whose own re-reads would also find the session gone).
      await page.goto('/grants');
      await signIn(page, 'admin', ADMIN_PASSWORD);
      expect(new URL(page.url()).pathname).toBe('/grants');
      clock.advance(16 * 60_000);
      await page.goto('/approvals');
      expect(page.url()).toBe(`${app.baseUrl}/sign-in?next=%2Fapprovals`);
      await signIn(page, 'admin', ADMIN_PASSWORD);
      expect(new URL(page.url()).pathname).toBe('/approvals');

      // A form sent after the time-out: sign in, then back on the page the form was on (its
      // Referer), with nothing done (the form is not replayed).
      await page.goto('/enrollment-tokens');
      clock.advance(16 * 60_000);
      await submit(page, 'Create token');
      expect(page.url()).toBe(`${app.baseUrl}/sign-in?next=%2Fenrollment-tokens`);
      await signIn(page, 'admin', ADMIN_PASSWORD);
      expect(new URL(page.url()).pathname).toBe('/enrollment-tokens');
      const admin = await login(app.baseUrl);
      expect((await api(app.baseUrl, 'GET', '/api/v1/enrollment-tokens', { token: admin })).body).toEqual([]);
      await context.close();
    } finally {
      await app.close();
    }
  });

  it('sends an inbox left open past the idle time-out to sign in, and back to the inbox', async () => {
    const clock = new TestClock(new Date());
    const app = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '15' } });
    try {
      const { page, context } = await openConsole(browser, app.baseUrl);
      // The stream's first event (resync) makes htmx re-read the list: the stream is open.
      const reread = page.waitForResponse(
        (r) =>
          r.url().endsWith('/approvals') &&
          r.request().method() === 'GET' &&
          r.request().headers()['hx-request'] === 'true',
      );
      await page.goto('/approvals');
      await signIn(page, 'admin', ADMIN_PASSWORD);
      await reread;
      clock.advance(16 * 60_000);
      // The server ends the stream with `session-ended` (its session check runs every 2 s).
      await page.waitForURL(`${app.baseUrl}/sign-in?next=%2Fapprovals`, { timeout: 15_000 });
      await signIn(page, 'admin', ADMIN_PASSWORD);
      expect(new URL(page.url()).pathname).toBe('/approvals');
      await context.close();
    } finally {
      await app.close();
    }
  });

  it('marks the session cookie Secure when browsers reach Gatehouse over TLS (an https PUBLIC_URL)', async () => {
    const publicUrl = 'https://gatehouse.hosp.test';
    const app = await startTestApp({ env: { PUBLIC_URL: publicUrl } });
    try {
      const form = (path: string, fields: Record<string, string>, cookie?: string) =>
        fetch(`${app.baseUrl}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            origin: publicUrl,
            'content-type': 'application/x-www-form-urlencoded',
            ...(cookie ? { cookie } : {}),
          },
          body: new URLSearchParams(fields).toString(),
        });
      const signedIn = await form('/sign-in', { username: 'admin', password: ADMIN_PASSWORD });
      expect(signedIn.status).toBe(303);
      const setCookie = signedIn.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^gatehouse_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
      const cookie = setCookie.split(';')[0];
      const page = await (await fetch(`${app.baseUrl}/grants`, { headers: { cookie } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
      const signedOut = await form('/sign-out', { _csrf: csrf }, cookie);
      expect(signedOut.status).toBe(303);
      expect(signedOut.headers.get('set-cookie')).toMatch(/Max-Age=0; Secure$/);
    } finally {
      await app.close();
    }
  });

  it('creates the first administrator with the setup token from the log, then signs in', async () => {
    const app = await startTestApp({
      env: { GATEHOUSE_ADMIN_PASSWORD: undefined } as unknown as Record<string, string>,
    });
    try {
      const token = /One-time setup token: (\S+)/.exec(app.logs.join('\n'))![1];
      const { page, context, cspViolations } = await openConsole(browser, app.baseUrl, PHONE);
      await page.goto('/');
      expect(new URL(page.url()).pathname).toBe('/setup');
      expect(await seriousAxeViolations(page)).toEqual([]);
      await screenshots(page, 'setup');
      await page.getByLabel('Setup token').fill('wrong-token');
      await page.getByLabel("Administrator's user name").fill('chief');
      await page.getByLabel('Password').fill('a-long-enough-password');
      await submit(page, 'Create the administrator');
      expect(await page.getByRole('alert').textContent()).toMatch(/setup token/i);
      await page.getByLabel('Setup token').fill(token);
      await page.getByLabel("Administrator's user name").fill('chief');
      await page.getByLabel('Password').fill('a-long-enough-password');
      await submit(page, 'Create the administrator');
      expect(new URL(page.url()).pathname).toBe('/sign-in');
      expect(await page.getByRole('status').textContent()).toContain('administrator was created');
      await signIn(page, 'chief', 'a-long-enough-password');
      expect(new URL(page.url()).pathname).toBe('/approvals');
      // Setup is over: its page now sends people to sign in.
      await page.goto('/setup');
      expect(new URL(page.url()).pathname).toBe('/sign-in');
      expect(cspViolations).toEqual([]);
      await context.close();
    } finally {
      await app.close();
    }
  });
});
