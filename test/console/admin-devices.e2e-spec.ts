/// <reference lib="dom" />
// (Functions passed to page.evaluate() run in Chromium: they use the DOM's globals.)
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_PASSWORD, api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { APPROVER_PASSWORD } from '../support/approvers.js';
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

jest.setTimeout(180_000);

const enroll = (baseUrl: string, token: string, deviceId: string, model: string, site = 'Main campus') =>
  api(baseUrl, 'POST', '/api/v1/agent/enroll', { token, body: { deviceId, model, site } });

/** The device ids in the page's device table, in order. */
const listedDevices = (page: Page) => page.locator('table tbody th[scope=row] a').allTextContents();

/** The IT administrator's devices and enrollment tokens, in real Chromium on a real Gatehouse. */
describe('console: devices and enrollment tokens (IT administrator)', () => {
  let app: TestApp;
  let browser: Browser;
  let admin: string;

  beforeAll(async () => {
    // 70 enrollments with one token below: above the per-token burst of the default rate limit.
    app = await startTestApp({ env: { CONSOLE_TIME_ZONE: 'Europe/Berlin', DEVICE_RATE_BURST: '200' } });
    browser = await launchChromium();
    admin = await login(app.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('creates an enrollment token shown once with a copy button; a device enrolls with it and is listed', async () => {
    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.baseUrl });
    await page.goto('/sign-in');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Enrollment tokens' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('.empty').textContent()).toContain('No token yet');

    await page.getByLabel(/Device groups/).fill('icu, radiology-north');
    await page.getByLabel('Valid for (hours)').fill('2');
    await page.getByLabel('Devices it may enroll').fill('1');
    await submit(page, 'Create token');
    const secret = (await page.locator('#new-token-value').textContent())!.trim();
    expect(secret).toMatch(/^ghe_/);
    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-enrollment-tokens');

    // Post/Redirect/Get: a reload neither makes a second token nor shows the secret again.
    expect(new URL(page.url()).pathname).toBe('/enrollment-tokens');
    expect(page.url()).not.toContain(secret);
    await page.reload();
    await page.waitForLoadState('load');
    const listed = await api(app.baseUrl, 'GET', '/api/v1/enrollment-tokens', { token: admin });
    expect(listed.body).toHaveLength(1);
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await page.content()).not.toContain(secret);
    expect(await page.getByRole('status').first().textContent()).toContain('shown once and is not shown again');

    // The device's agent enrolls with the copied token, and reports that it is in clinical use.
    const res = await enroll(app.baseUrl, secret, 'ct-0042', 'SOMATOM X.cite', 'North clinic');
    expect(res.status).toBe(201);
    const heartbeat = await api(app.baseUrl, 'POST', '/api/v1/agent/heartbeat', {
      token: res.body.credential,
      body: { state: { inUse: true } },
    });
    expect(heartbeat.status).toBe(200);
    expect((await enroll(app.baseUrl, secret, 'extra-1', 'cobas pro')).status).toBe(401);

    // Shown once: the list has its uses, never its secret.
    await page.goto('/enrollment-tokens');
    expect(await page.content()).not.toContain(secret);
    const row = page.locator('tbody tr').first();
    expect(await row.textContent()).toContain('1 of 1');
    expect(await row.textContent()).toContain('used up');
    expect(await row.textContent()).toContain('icu, radiology-north');

    // A lab analyzer enrolls with an unscoped token: its groups come from the policy files.
    const unscoped = await api(app.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: admin,
      body: { expiresInHours: 1, maxUses: 1 },
    });
    expect((await enroll(app.baseUrl, unscoped.body.token, 'cobas-0007', 'cobas pro')).status).toBe(201);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
    await page.waitForLoadState('load');
    expect(await listedDevices(page)).toEqual(['cobas-0007', 'ct-0042']);
    const ctRow = page.locator('tbody tr', { hasText: 'ct-0042' });
    // The token's scope bounds the device's groups: not ct-scanners, although its model matches.
    expect(await ctRow.textContent()).toContain('icu, radiology-north');
    expect(await ctRow.textContent()).not.toContain('ct-scanners');
    expect(await ctRow.textContent()).toContain('In clinical use');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-devices');
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('searches and filters by text, group, state, last seen and revoked; revokes a device', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/devices');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByLabel(/^Search/).fill('somatom');
    await submit(page, 'Find');
    expect(await listedDevices(page)).toEqual(['ct-0042']);

    await page.goto('/devices?group=lab-analyzers');
    expect(await listedDevices(page)).toEqual(['cobas-0007']);
    await page.goto('/devices?group=no-such-group');
    expect(await page.locator('.empty').textContent()).toContain('No device matches');
    await page.goto('/devices?state=in-use');
    expect(await listedDevices(page)).toEqual(['ct-0042']);
    await page.goto('/devices?state=unknown');
    expect(await listedDevices(page)).toEqual(['cobas-0007']);
    await page.goto('/devices?lastSeen=never');
    expect(await listedDevices(page)).toEqual(['cobas-0007']);
    await page.goto('/devices?lastSeen=hour');
    expect(await listedDevices(page)).toEqual(['ct-0042']);
    // A filter value that is not one of the form's is a clear 400, not a crash.
    expect((await page.goto('/devices?state=on-fire'))!.status()).toBe(400);
    expect(await page.getByRole('main').textContent()).toContain('Check the filters');

    await page.goto('/devices');
    await page.getByRole('link', { name: 'ct-0042' }).click();
    await page.waitForLoadState('load');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Device ct-0042');
    expect(await page.locator('section', { hasText: 'Audit records' }).textContent()).toContain('device.enrolled');
    expect(await page.locator('section', { hasText: 'Latest requests' }).textContent()).toContain(
      'This device has asked nothing yet.',
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-device');
    await submit(page, 'Revoke device');
    expect(await page.getByRole('status').textContent()).toContain('was revoked');
    expect(await page.locator('section', { hasText: 'Audit records' }).textContent()).toContain('device.revoked');
    const audit = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=device.revoked&limit=5', { token: admin });
    expect(audit.body.items[0]).toMatchObject({ actorId: 'admin', deviceId: 'ct-0042' });

    await page.goto('/devices');
    expect(await listedDevices(page)).toEqual(['cobas-0007']);
    await page.goto('/devices?revoked=yes');
    expect(await listedDevices(page)).toEqual(['ct-0042']);
    await page.setViewportSize(PHONE);
    await page.goto('/devices?revoked=all');
    expect(await overflowsHorizontally(page)).toBe(false);
    await context.close();
  });

  it('pages through many devices with a cursor, each device once', async () => {
    const token = await api(app.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: admin,
      body: { expiresInHours: 1, maxUses: 70 },
    });
    for (let i = 0; i < 70; i++) {
      const id = `mr-${String(i).padStart(3, '0')}`;
      expect((await enroll(app.baseUrl, token.body.token, id, 'MAGNETOM Vida')).status).toBe(201);
    }
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/devices?group=mri-scanners');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const first = await listedDevices(page);
    expect(first).toHaveLength(50);
    await page.getByRole('link', { name: 'Next devices' }).click();
    await page.waitForLoadState('load');
    const second = await listedDevices(page);
    expect(second).toHaveLength(20);
    expect(new URL(page.url()).searchParams.get('group')).toBe('mri-scanners');
    expect([...first, ...second]).toEqual(Array.from({ length: 70 }, (_, i) => `mr-${String(i).padStart(3, '0')}`));
    expect(await page.getByRole('link', { name: 'Next devices' }).count()).toBe(0);
    await context.close();
  });

  it('revokes an enrollment token from the list: it enrolls no more', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/enrollment-tokens');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await submit(page, 'Create token');
    const secret = (await page.locator('#new-token-value').textContent())!.trim();
    await page.goto('/enrollment-tokens');
    await page
      .locator('tbody tr')
      .first()
      .getByRole('button', { name: /^Revoke/ })
      .click();
    await page.waitForLoadState('load');
    expect(await page.getByRole('status').textContent()).toContain('was revoked');
    expect(await page.locator('tbody tr').first().textContent()).toContain('revoked');
    expect((await enroll(app.baseUrl, secret, 'late-1', 'cobas pro')).status).toBe(401);
    await context.close();
  });

  it('shows a scoped person only the devices in scope, with no manage buttons, and refuses a forged revoke', async () => {
    const created = await api(app.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'carol', password: APPROVER_PASSWORD, groups: ['Lab-Leads'] },
    });
    expect(created.status).toBe(201);
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/devices?revoked=all');
    await signIn(page, 'carol', APPROVER_PASSWORD);
    expect(await listedDevices(page)).toEqual(['cobas-0007']);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Enrollment tokens' }).count()).toBe(0);
    // Out of scope reads as not found, as in the API.
    expect((await page.goto('/devices/ct-0042'))!.status()).toBe(404);
    await page.goto('/devices/cobas-0007');
    expect(await page.getByRole('button', { name: 'Revoke device' }).count()).toBe(0);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const forged = await page.evaluate(async (token) => {
      const res = await fetch('/devices/cobas-0007/revoke', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: token }).toString(),
        redirect: 'manual',
      });
      return res.status;
    }, csrf);
    expect(forged).toBe(403);
    expect((await page.goto('/enrollment-tokens'))!.status()).toBe(403);
    const audit = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=console.refused&limit=5', { token: admin });
    expect(audit.body.items[0]).toMatchObject({ actorId: 'carol', outcome: 'failure' });
    const device = await api(app.baseUrl, 'GET', '/api/v1/devices', { token: admin });
    expect(device.body.find((d: { id: string }) => d.id === 'cobas-0007').revoked).toBe(false);
    await context.close();
  });
});
