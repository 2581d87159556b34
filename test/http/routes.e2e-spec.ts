import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { routeTable } from '../support/routes.js';

describe('route permissions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('declares who may call every route (a change here is a permission change: review it as one)', async () => {
    const routes = await routeTable(t.baseUrl);
    expect(routes.filter((r) => !r.access)).toEqual([]);
    expect(routes.map((r) => `${r.method.padEnd(6)} ${r.path}  ->  ${r.access}`).join('\n')).toMatchSnapshot();
  });

  it('refuses every non-public route without a token, in the error shape', async () => {
    for (const route of await routeTable(t.baseUrl)) {
      if (route.access === 'public') continue;
      const path = route.path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
      const res = await api(t.baseUrl, route.method, path, { body: route.method === 'GET' ? undefined : {} });
      expect([route.method, path, res.status]).toEqual([route.method, path, 401]);
      expect(res.body.error.code).toBe('unauthenticated');
    }
  });
});
