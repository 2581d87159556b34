import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { askPending, createApprovalWorld, installBody, type ApprovalWorld } from '../support/approvers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The menu's badge on pages other than the inbox (PendingCount: a capped count of the queue's
 * own filter): the requests pending in each person's device scope, "100+" past a hundred.
 * Plain HTTP with the console's cookie (the API's session token); no browser needed.
 */
describe("console: the menu's badge of requests waiting", () => {
  let app: TestApp;
  let w: ApprovalWorld;
  const badge = async (token: string) => {
    const res = await fetch(`${app.baseUrl}/grants`, { headers: { cookie: `gatehouse_session=${token}` } });
    expect(res.status).toBe(200);
    return /<span id="pending-badge"[^>]*>([^<]*)<\/span>/.exec(await res.text())?.[1];
  };

  beforeAll(async () => {
    // 101 requests from one device: above the default per-device burst.
    app = await startTestApp({ env: { DEVICE_RATE_BURST: '200' } });
    w = await createApprovalWorld(app.baseUrl);
  });
  afterAll(async () => app?.close());

  it('counts what waits in the caller’s scope, and says 100+ past a hundred', async () => {
    expect(await badge(w.tokens.alice)).toBe('');
    for (let i = 0; i < 3; i++) await askPending(app.baseUrl, w.ct, installBody(`badge-${i}`));
    expect(await badge(w.tokens.alice)).toBe('3'); // Biomed-Approvers: the CT scanner is theirs
    expect(await badge(w.tokens.carol)).toBe(''); // Lab-Leads: not in scope
    for (let i = 3; i < 100; i++) await askPending(app.baseUrl, w.ct, installBody(`badge-${i}`));
    expect(await badge(w.tokens.alice)).toBe('100');
    await askPending(app.baseUrl, w.ct, installBody('badge-100'));
    expect(await badge(w.tokens.alice)).toBe('100+');
    expect(await badge(w.tokens.carol)).toBe('');
  });
});
