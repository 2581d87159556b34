import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { DirectoryArea } from '../support/directory-fixture.js';
import { ADMIN_PASSWORD, api, startTestApp, type TestApp } from '../support/test-app.js';
import { launchChromium, openConsole, screenshots, seriousAxeViolations, signIn, submit } from './browser.js';

jest.setTimeout(180_000);

const LENA_PASSWORD = 'Rides-9-Horses-Quietly';
const LENA_NEW_PASSWORD = 'Blue-Kettle-47-Sings-At-Dawn';

/** The administrator's directory and people pages, on the real Samba AD DC. */
describe('console: directory, roles and local users (IT administrator)', () => {
  let area: DirectoryArea;
  let app: TestApp;
  let browser: Browser;
  const tag = Math.random().toString(36).slice(2, 7);
  const ava = `ava${tag}`;

  beforeAll(async () => {
    area = await DirectoryArea.create('console');
    const avaDn = await area.addUser({ sam: ava, displayName: `Ava ${tag}` });
    // The CN is what access.yaml names; the account name is unique in the shared domain.
    await area.addGroup(`bio${tag}`, [avaDn], area.dn, 'Biomed-Approvers');
    app = await startTestApp({ env: area.env({ LOGIN_BACKOFF_AFTER: '2', LOGIN_LOCK_AFTER: '3' }) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await area?.dispose();
  });

  it('shows the connection, syncs now with live progress, and tells who has which role and why', async () => {
    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl);
    await page.goto('/sign-in');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Directory' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('section', { hasText: 'Connection' }).textContent()).toContain(area.dn);
    expect(await page.locator('#sync-status').textContent()).toContain('No sync has run yet');

    await submit(page, /^Sync now/);
    expect(await page.locator('.notice').first().textContent()).toMatch(/started|already running/);
    // The status fragment polls while the sync runs and shows its result without a reload.
    await page
      .locator('#sync-status', { hasText: /Succeeded|Failed/ })
      .waitFor({ timeout: 60_000 })
      .catch(() => undefined);
    expect(await page.locator('#sync-status').textContent()).toMatch(/Succeeded \((incremental|full), console\)/);
    expect(await page.locator('#sync-status').getAttribute('hx-trigger')).toBeNull();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-directory');
    const audit = await api(app.baseUrl, 'POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const records = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=directory.sync&limit=5', {
      token: audit.body.accessToken,
    });
    const [syncRecord] = records.body.items;
    expect(syncRecord).toMatchObject({ actorId: 'admin', outcome: 'success' });
    expect(syncRecord.details.httpRequestId).toEqual(expect.any(String));

    await page.getByRole('link', { name: 'Who has which role, and why' }).click();
    await page.waitForLoadState('load');
    const card = page.locator(`#user-${ava}`);
    expect(await card.textContent()).toContain(
      'approver of ct-scanners, injectors: access entry Biomed-Approvers, from directory group',
    );
    expect(await page.locator('#user-admin').textContent()).toContain('admin of all devices');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-people');
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('creates a local user, resets the password, and unlocks the locked name', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/users');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByText('New local user').click();
    await page.getByLabel('User name', { exact: true }).fill('lena');
    await page.getByLabel('Display name', { exact: true }).fill('Lena Auditor');
    await page.getByLabel('Password', { exact: true }).fill(LENA_PASSWORD);
    await page.getByLabel('Local groups (comma-separated)').fill('IT-Security');
    await submit(page, 'Create user');
    expect(await page.getByRole('main').textContent()).toContain('The user was created');
    const card = page.locator('#user-lena');
    expect(await card.textContent()).toContain('auditor of all devices: access entry IT-Security, from local group');

    const signInAs = (password: string) =>
      api(app.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'lena', password } });
    expect((await signInAs(LENA_PASSWORD)).status).toBe(200);

    await card.getByLabel('New password for lena').fill(LENA_NEW_PASSWORD);
    await card.getByRole('button', { name: 'Reset password' }).click();
    await page.waitForLoadState('load');
    expect(await page.getByRole('main').textContent()).toContain('password was set');
    expect((await signInAs(LENA_PASSWORD)).status).toBe(401);

    // Three failures lock the name (LOGIN_LOCK_AFTER=3), even for the right password.
    for (let i = 0; i < 3; i++) await signInAs('wrong-password-again');
    expect((await signInAs(LENA_NEW_PASSWORD)).status).toBe(429);
    await page.goto('/users?q=lena');
    expect(await page.locator('#user-lena').textContent()).toContain('sign-in blocked until');
    await page.getByRole('button', { name: 'Unlock lena' }).click();
    await page.waitForLoadState('load');
    expect(await page.getByRole('main').textContent()).toContain('may sign in again');
    expect((await signInAs(LENA_NEW_PASSWORD)).status).toBe(200);

    // A weak password is a clear 400 on an error page, and nothing is created.
    await page.goto('/users');
    await page.getByText('New local user').click();
    await page.getByLabel('User name', { exact: true }).fill('bad user name!');
    await page.getByLabel('Password', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.waitForLoadState('load');
    const main = await page.getByRole('main').textContent();
    expect(main).toContain('Check the form');
    expect(main).toContain('username: expected 1-64 letters');
    await context.close();
  });
});
