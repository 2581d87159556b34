/// <reference lib="dom" />
// (Functions passed to page.evaluate() run in Chromium: they use the DOM's globals.)
/**
 * The console at phone width (360 x 740, issue 12's review): an approver at the bedside sees
 * the decision on the first screen, every list shows each row as a labelled card with no
 * column off screen, and the audit trail's search is folded until asked for.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { APPROVER_PASSWORD, askPending, createApprovalWorld, installBody } from '../support/approvers.js';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/test-app.js';
import {
  DESKTOP,
  launchChromium,
  openConsole,
  overflowsHorizontally,
  PHONE,
  screenshots,
  seriousAxeViolations,
  signIn,
} from './browser.js';

jest.setTimeout(120_000);

/** How far down the first decision button may start: 1.2 phone screens (it was ~1,650 px, after 21 facts). */
const DECISION_WITHIN_PX = 1.2 * PHONE.height;

interface CellSeen {
  label: string | null;
  /** The label as drawn (the ::before's content), quoted as CSS gives it. */
  drawn: string;
  column: string;
  left: number;
  right: number;
  width: number;
}

/** Each cell of the page's first table row: where it is drawn, and the label it shows. */
function firstRowCells(page: Page): Promise<CellSeen[]> {
  return page.evaluate(() => {
    const table = document.querySelector('.table-wrap table')!;
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    const cells = [...table.querySelectorAll('tbody tr:first-child > :is(td, th)')] as HTMLElement[];
    return cells.map((cell, i) => {
      const box = cell.getBoundingClientRect();
      return {
        label: cell.getAttribute('data-label'),
        drawn: getComputedStyle(cell, '::before').content,
        column: heads[i],
        left: box.left,
        right: box.right,
        width: box.width,
      };
    });
  });
}

/** Every cell of the first row lies within the phone's width and says which column it is. */
async function expectLabelledCards(page: Page): Promise<void> {
  const cells = await firstRowCells(page);
  expect(cells.length).toBeGreaterThan(3);
  // A cell with nothing in it (no button on a spent token) is left out; the others are on screen.
  const offScreen = cells.filter((c) => !(c.width > 0 && c.left >= 0 && c.right <= PHONE.width));
  expect(offScreen).toEqual([]);
  for (const cell of cells) {
    expect({ column: cell.column, label: cell.label, drawn: cell.drawn }).toEqual({
      column: cell.column,
      label: cell.column,
      drawn: JSON.stringify(cell.column),
    });
  }
}

describe('console at phone width (360 px)', () => {
  let app: TestApp;
  let browser: Browser;
  let requestId: string;

  beforeAll(async () => {
    app = await startTestApp({ env: { CONSOLE_TIME_ZONE: 'Europe/Berlin' } });
    const world = await createApprovalWorld(app.baseUrl);
    // A request as full as they come: path, package, hash, ticket and reason.
    const body = installBody('ct-firmware', {
      target: {
        package: 'ct-firmware',
        version: '5.1.2',
        path: '/opt/siemens/firmware/ct-firmware-5.1.2.pkg',
        sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      },
    });
    requestId = await askPending(app.baseUrl, world.ct, body);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('a request: the decision is on the first screen, before the other details', async () => {
    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl, PHONE);
    await page.goto(`/approvals/${requestId}`);
    await signIn(page, 'alice', APPROVER_PASSWORD);
    expect(new URL(page.url()).pathname).toBe(`/approvals/${requestId}`);

    const approve = page.getByRole('button', { name: 'Approve', exact: true });
    const top = (await approve.boundingBox())!.y;
    process.stdout.write(`[console] at 360x740 the Approve button starts ${Math.round(top)} px down\n`);
    expect(top).toBeLessThan(DECISION_WITHIN_PX);
    // What it rests on is above it: device, action, remote user, target, the vendor's reason and
    // ticket, time left, approvals.
    const key = await page.locator('dl.facts.key').textContent();
    const keyFacts = ['software-install', 'SOMATOM X.cite ct-a1', 'jdoe@acme.example', 'ct-firmware', 'INC-4711'];
    for (const text of [...keyFacts, 'Firmware fix for the gantry', '0 of 2 given'])
      expect({ text, found: key!.includes(text) }).toEqual({ text, found: true });
    expect(await page.locator('dl.facts.key time[data-countdown]').count()).toBe(1);
    // The rest follows the decision, in reading (and tab) order too.
    const headings = await page.getByRole('heading', { level: 2 }).allTextContents();
    expect(headings.slice(0, 3)).toEqual(['What is asked', 'Your decision', 'More about this request']);
    expect(await page.locator('#details ~ dl').textContent()).toContain('9f86d081884c7d65');

    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(await overflowsHorizontally(page)).toBe(false);
    expect(cspViolations).toEqual([]);
    await screenshots(page, 'phone-request');
    await context.close();
  });

  it('the devices list and the audit trail: each row a card, every column on screen and labelled', async () => {
    const { page, context, cspViolations } = await openConsole(browser, app.baseUrl, PHONE);
    await page.goto('/devices');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    expect(new URL(page.url()).pathname).toBe('/devices');
    await expectLabelledCards(page);
    expect(await overflowsHorizontally(page)).toBe(false);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'phone-devices');

    await page.goto('/audit');
    await expectLabelledCards(page);
    expect(await overflowsHorizontally(page)).toBe(false);
    // The search is folded on a phone: the records are on the first screen, the fields a tap away.
    const search = page.locator('details.search');
    expect(await search.getAttribute('open')).toBeNull();
    expect(await page.getByLabel('Request id').isVisible()).toBe(false);
    expect((await page.locator('tbody tr').first().boundingBox())!.y).toBeLessThan(PHONE.height);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.locator('details.search summary').click();
    expect(await page.getByLabel('Request id').isVisible()).toBe(true);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'phone-audit');

    // Open when a filter is set (the page of a search), and on a desktop.
    await page.goto('/audit?event=decision');
    expect(await page.getByLabel('Event (e.g. decision, approval.vote)').inputValue()).toBe('decision');
    expect(await page.getByLabel('Event (e.g. decision, approval.vote)').isVisible()).toBe(true);
    await page.setViewportSize(DESKTOP);
    await page.goto('/audit');
    expect(await page.getByLabel('Request id').isVisible()).toBe(true);
    // On a desktop the list is a table again: one row, its cells side by side.
    const cells = await firstRowCells(page);
    expect(new Set(cells.map((c) => Math.round(c.left))).size).toBe(cells.length);
    expect(cspViolations).toEqual([]);
    await context.close();
  });
});
