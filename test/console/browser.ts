/// <reference lib="dom" />
// (Functions passed to page.evaluate() run in Chromium: they use the DOM's globals.)
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium: the tests drive the browser the machine has, never a downloaded build. */
export const CHROMIUM = '/usr/bin/chromium';
export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 900 };
export const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Starts headless Chromium. Playwright gives each launch a fresh, temporary user-data-dir
 * (no profile, cookies or cache from an earlier run). Missing Chromium fails at once: the
 * console's tests are never skipped.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations the page reported (must stay empty). */
  cspViolations: string[];
}

/** A person's own browser window (own cookies), at phone or desktop width. */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  viewport: { width: number; height: number } = DESKTOP,
): Promise<ConsolePage> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, cspViolations };
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await submit(page, 'Sign in');
  // Said on stderr (tests that expect a refusal go on): when a test expected to get in, this
  // names why it did not (a slow directory, a lock-out) instead of only "still on /sign-in".
  if (new URL(page.url()).pathname === '/sign-in') {
    const alert = await page
      .getByRole('alert')
      .textContent({ timeout: 1000 })
      .catch(() => 'no message');
    process.stderr.write(`[console test] signing in as ${username} stayed on /sign-in: ${alert?.trim()}\n`);
  }
}

/** Clicks a form's button and waits for the page it leads to (click waits for the navigation to start). */
export async function submit(page: Page, button: string | RegExp): Promise<void> {
  await page.getByRole('button', { name: button }).click();
  await page.waitForLoadState('load');
}

/**
 * axe-core from node_modules, run in the page. Injected over the DevTools protocol (page.evaluate),
 * which the page's CSP does not govern; a <script> tag would be refused, as it should be.
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as any).axe;
    const run = await axe.run(document, { resultTypes: ['violations'] });
    return run.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
  return (result as { id: string; impact: string; help: string; nodes: number }[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact}: ${v.id} (${v.help}) on ${v.nodes} element(s)`);
}

/** Screenshots for review, at desktop and phone width, under test/artifacts/ (not committed). */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(before);
}

/** Waits for a condition (polling, for what has no event to wait for, such as a mail arriving). */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether the page scrolls sideways (a phone layout must not). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
}
