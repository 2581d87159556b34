import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { enrollDevice } from '../support/agent.js';
import { askPending, createApprovalWorld, installBody, uploadBody, type ApprovalWorld } from '../support/approvers.js';

describe('the approvals queue', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  let mri: string;
  const ids: string[] = [];
  const list = (token: string, query = '') => api(app.baseUrl, 'GET', `/api/v1/approvals${query}`, { token });

  beforeAll(async () => {
    app = await startTestApp();
    w = await createApprovalWorld(app.baseUrl);
    mri = await enrollDevice(app.baseUrl, w.admin, { deviceId: 'mri-q1', model: 'MAGNETOM Vida', site: 'Main campus' });
    for (let i = 0; i < 5; i++) ids.push(await askPending(app.baseUrl, w.ct, installBody(`pkg-${i}`)));
    ids.push(await askPending(app.baseUrl, w.ct, uploadBody()));
    ids.push(await askPending(app.baseUrl, mri, installBody('mri-pkg')));
  });
  afterAll(async () => app.close());

  it('lists pending requests in the caller’s device scope, newest first', async () => {
    const alice = await list(w.tokens.alice); // Biomed-Approvers: CT scanners and injectors, not MRI
    expect(alice.status).toBe(200);
    expect(alice.body.items.map((r: { requestId: string }) => r.requestId)).toEqual(ids.slice(0, 6).reverse());
    expect(alice.body.items[0]).toMatchObject({ status: 'pending', device: { id: 'ct-a1' }, youMayDecide: true });
    const bob = await list(w.tokens.bob); // Radiology-Leads: CT and MRI
    expect(bob.body.items).toHaveLength(7);
    expect((await list(w.tokens.carol)).body.items).toEqual([]); // Lab-Leads
    expect((await list(w.tokens.dave)).body.items).toHaveLength(7); // Biomed-Staff: viewer of all devices
  });

  it('pages with an opaque cursor, without gaps or repeats, in both orders and by expiry', async () => {
    for (const query of ['?limit=2', '?limit=3&order=asc', '?limit=2&sort=expiresAt']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(w.tokens.bob, `${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((r: { requestId: string }) => r.requestId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect([query, seen.length, new Set(seen).size]).toEqual([query, 7, 7]);
      if (query.includes('asc')) expect(seen).toEqual(ids);
    }
  });

  it('filters by status, device group, action, device and age', async () => {
    const first = ids[0];
    await api(app.baseUrl, 'POST', `/api/v1/approvals/${first}/reject`, { token: w.tokens.alice, body: {} });
    const rejected = await list(w.tokens.bob, '?status=rejected');
    expect(rejected.body.items.map((r: { requestId: string }) => r.requestId)).toEqual([first]);
    expect((await list(w.tokens.bob, '?status=all')).body.items).toHaveLength(7);
    expect((await list(w.tokens.bob, '?deviceGroup=mri-scanners')).body.items).toHaveLength(1);
    expect((await list(w.tokens.bob, '?action=file-upload')).body.items).toHaveLength(1);
    expect((await list(w.tokens.bob, '?deviceId=mri-q1')).body.items).toHaveLength(1);
    expect((await list(w.tokens.bob, '?minAgeMinutes=60')).body.items).toHaveLength(0);
    expect((await list(w.tokens.bob, '?maxAgeMinutes=60')).body.items).toHaveLength(6);
  });

  it('refuses unknown sort fields, statuses, bad cursors and extra parameters', async () => {
    for (const query of [
      '?sort=remote_user',
      '?sort=created_at;DROP TABLE users',
      '?status=approvedd',
      '?cursor=abc',
      `?cursor=${Buffer.from(JSON.stringify(['1', '00000000-0000-4000-8000-000000000000'])).toString('base64url')}`,
      `?cursor=${Buffer.from(JSON.stringify(['2026-01-01', "x' OR 1=1"])).toString('base64url')}`,
      '?limit=0',
      '?limit=1000',
      '?order=sideways',
      '?foo=1',
    ]) {
      const res = await list(w.tokens.bob, query);
      expect([query, res.status, res.body.error?.code]).toEqual([query, 400, 'invalid_request']);
    }
  });

  it('streams queue changes in the caller’s scope as server-sent events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${app.baseUrl}/api/v1/approvals/events`, {
      headers: { authorization: `Bearer ${w.tokens.alice}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      const deadline = Date.now() + 5000;
      while (!pattern.test(text) && Date.now() < deadline) {
        // The timer is cleared once the read wins: left running, it kept the Jest worker alive
        // up to 5 s after the file ("A worker process has failed to exit gracefully").
        let timer: NodeJS.Timeout | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(0, deadline - Date.now())))),
        ]).finally(() => clearTimeout(timer));
        if (!chunk || chunk.done) break;
        text += Buffer.from(chunk.value).toString('utf8');
      }
      expect(text).toMatch(pattern);
    };
    await until(/event: resync/);
    await askPending(app.baseUrl, mri, installBody('mri-hidden')); // not in alice's scope
    const id = await askPending(app.baseUrl, w.ct, uploadBody('/opt/acme/live.bin'));
    await until(new RegExp(`"requestId":"${id}","status":"pending"`));
    await api(app.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: w.tokens.bob, body: {} });
    await until(new RegExp(`"requestId":"${id}","status":"approved"`));
    expect(text).not.toMatch(/mri-q1/);
    controller.abort();
  });
});
