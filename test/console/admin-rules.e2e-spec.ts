import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { APPROVER_PASSWORD } from '../support/approvers.js';
import { ADMIN_PASSWORD, api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { launchChromium, openConsole, screenshots, seriousAxeViolations, signIn, submit } from './browser.js';

jest.setTimeout(180_000);

const BROKEN_RULE = `id: acme-calibrate-ct
effect: allow
actions: [calibrate]
devices: [ct-scanners]
remoteUsers:
  enterprises: [acme-medical]
`;
const FIXED_RULE = BROKEN_RULE.replace('[calibrate]', '[x-calibrate]');

/** The administrator's rules: the set in force with sources, the console rule editor, "what if", versions. */
describe('console: rules, simulation and versions (IT administrator)', () => {
  let app: TestApp;
  let browser: Browser;
  let admin: string;
  let ct: string;

  const calibrate = () =>
    api(app.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: ct,
      body: decisionBody({ action: 'x-calibrate' }),
    });

  beforeAll(async () => {
    app = await startTestApp({ env: { CONSOLE_TIME_ZONE: 'Europe/Paris' } });
    browser = await launchChromium();
    admin = await login(app.baseUrl);
    ct = await enrollDevice(app.baseUrl, admin, { deviceId: 'ct-r1', model: 'SOMATOM X.cite', site: 'Main campus' });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('edits a console rule: an error at its line as one types, fixed, saved, and it decides the next request', async () => {
    expect((await calibrate()).body).toMatchObject({ decision: 'deny', policies: [] });

    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl);
    await page.goto('/sign-in');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules' }).click();
    await page.waitForLoadState('load');
    const fileRule = page.locator('#rule-acme-sessions-office-hours');
    expect(await fileRule.textContent()).toMatch(/rules\/acme-medical\.yaml:\d+/);
    expect(await fileRule.getByRole('link', { name: /Edit/ }).count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-rules');

    await page.getByRole('link', { name: 'New console rule' }).click();
    await page.waitForLoadState('load');
    const editor = page.getByLabel(/^Rule \(YAML/);
    await editor.fill(BROKEN_RULE);
    // htmx posts the draft after a pause in typing; the loader's message comes back at line 3.
    const problem = page.locator('#rule-check li[data-line="3"]');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/^Line 3: .*calibrate/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-rule-editor');

    // Saving it anyway keeps the text in the editor, with the same message.
    await submit(page, 'Add rule');
    expect(await page.locator('#rule-check li[data-line="3"]').count()).toBe(1);
    expect(await editor.inputValue()).toBe(BROKEN_RULE);
    expect((await calibrate()).body.decision).toBe('deny');

    await editor.fill(FIXED_RULE);
    await page.getByText('The rule is valid').waitFor();
    await submit(page, 'Add rule');
    expect(new URL(page.url()).pathname).toBe('/policies');
    expect(await page.getByRole('status').textContent()).toContain('saved');
    const consoleRule = page.locator('#rule-acme-calibrate-ct');
    expect(await consoleRule.textContent()).toContain('console (by admin');

    // The agent's next request is decided by the new rule.
    expect((await calibrate()).body).toMatchObject({ decision: 'allow', policies: ['acme-calibrate-ct'] });

    // Editing it again: the stored rule comes back as YAML; another id is refused at line 1.
    await consoleRule.getByRole('link', { name: /Edit/ }).click();
    await page.waitForLoadState('load');
    expect(await editor.inputValue()).toContain('id: acme-calibrate-ct');
    await editor.fill(FIXED_RULE.replace('id: acme-calibrate-ct', 'id: other-id'));
    await submit(page, 'Save rule');
    expect(await page.locator('#rule-check li[data-line="1"]').textContent()).toContain(
      "must stay 'acme-calibrate-ct'",
    );
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('says while a rule is being checked, and says so when the check fails, instead of staying silent', async () => {
    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl);
    await page.goto('/policies/console-rules/new');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const editor = page.getByLabel(/^Rule \(YAML/);
    const checking = page.locator('#rule-checking');
    const problem = page.locator('#connection-problem');
    const CHECK = '**/policies/console-rules/check';
    const valid = FIXED_RULE.replace('id: acme-calibrate-ct', 'id: acme-calibrate-mr');
    expect(await checking.isVisible()).toBe(false);

    // A slow answer: "Checking…" shows until it comes.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    await page.route(CHECK, async (route) => {
      await answered;
      await route.continue();
    });
    await editor.fill(valid);
    await checking.waitFor({ state: 'visible' });
    answer();
    await page.getByText('The rule is valid').waitFor();
    await checking.waitFor({ state: 'hidden' });
    await page.unroute(CHECK);

    // The server fails, then cannot be reached: said in an alert, not left as the last result.
    await page.route(CHECK, (route) => route.fulfill({ status: 500, body: '' }));
    await editor.fill(BROKEN_RULE);
    await problem.waitFor({ state: 'visible' });
    expect(await problem.textContent()).toContain('Gatehouse answered with an error (500)');
    expect(await problem.getAttribute('role')).toBe('alert');
    await page.unroute(CHECK);
    await page.route(CHECK, (route) => route.abort('connectionrefused'));
    await editor.fill(valid);
    await page.getByText('Gatehouse could not be reached').waitFor();
    await page.unroute(CHECK);

    // Back: the next check answers, and the alert goes.
    await editor.fill(`${valid}description: back again\n`);
    await page.getByText('The rule is valid').waitFor();
    await problem.waitFor({ state: 'hidden' });
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('runs a "what if" for a device and remote user, now and at another time in the hospital zone', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/policies/simulate');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByLabel('Device id').fill('ct-r1');
    await page.getByLabel(/^Action/).fill('x-calibrate');
    await page.getByLabel('Remote user id').fill('jdoe@acme.example');
    await page.getByLabel('Enterprise').fill('acme-medical');
    await submit(page, 'Simulate');
    const result = page.locator('#simulation-result');
    expect(await result.getByRole('heading', { level: 2 }).textContent()).toBe('Decision: allow');
    expect(await result.textContent()).toContain('acme-calibrate-ct');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-simulate');

    // Office hours (Tuesday 10:00 Paris) against night (22:00) for a tier-2 remote session.
    const at = async (local: string) => {
      const url = new URL('/policies/simulate', app.baseUrl);
      const fields = {
        deviceId: 'ct-r1',
        action: 'remote-session',
        remoteUser: 'jdoe@acme.example',
        enterprise: 'acme-medical',
        groups: 'tier2',
        at: local,
      };
      for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
      await page.goto(url.toString());
      return (await result.getByRole('heading', { level: 2 }).textContent())!;
    };
    expect(await at('2026-12-08T10:00')).toBe('Decision: allow');
    expect(await result.textContent()).toContain('acme-sessions-office-hours');
    expect(await at('2026-12-08T22:00')).toBe('Decision: deny');

    // An unknown device is said on the form, which keeps what was typed.
    expect((await page.goto('/policies/simulate?deviceId=nope&action=restart&remoteUser=x'))!.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toContain('Device');
    expect(await page.getByLabel('Device id').inputValue()).toBe('nope');
    await context.close();
  });

  it('lists policy versions with what changed and who changed it', async () => {
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/policies');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Versions and changes' }).click();
    await page.waitForLoadState('load');
    const cards = page.locator('li.card');
    // Newest first: the version the console edit made, then the edit itself, then the set at start.
    expect(await cards.nth(0).textContent()).toMatch(/Version [0-9a-f]{12}.*by admin.*Added.*acme-calibrate-ct/s);
    expect(await cards.nth(1).textContent()).toMatch(/Console rule acme-calibrate-ct created.*by admin.*x-calibrate/s);
    expect(await cards.last().textContent()).toContain('Gatehouse at start');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'admin-policy-versions');
    await context.close();
  });

  it('shows a viewer the rules without edit links, and refuses the editor and its check', async () => {
    const created = await api(app.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'dave', password: APPROVER_PASSWORD, groups: ['Biomed-Staff'] },
    });
    expect(created.status).toBe(201);
    const { page, context } = await openConsole(browser, app.baseUrl);
    await page.goto('/policies');
    await signIn(page, 'dave', APPROVER_PASSWORD);
    expect(await page.getByRole('link', { name: /Edit/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New console rule' }).count()).toBe(0);
    expect((await page.goto('/policies/console-rules/new'))!.status()).toBe(403);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const status = await page.evaluate(async (token) => {
      const res = await fetch('/policies/console-rules', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          _csrf: token,
          text: 'id: sneaky\neffect: allow\nactions: ["*"]\ndevices: ["*"]\n',
        }),
        redirect: 'manual',
      });
      return res.status;
    }, csrf);
    expect(status).toBe(403);
    expect((await api(app.baseUrl, 'GET', '/api/v1/policies/console-rules', { token: admin })).body).toHaveLength(1);
    await context.close();
  });
});
