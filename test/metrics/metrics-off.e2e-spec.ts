import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, startTestApp, type TestApp } from '../support/test-app.js';

describe('GET /metrics without METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is off: 404 whatever token is sent, 401 without one, in the error shape', async () => {
    const res = await api(t.baseUrl, 'GET', '/metrics', { token: 'any-token-at-all-0123456789' });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'not_found', message: 'Metrics are off: METRICS_TOKEN is not set' });
    expect((await api(t.baseUrl, 'GET', '/metrics')).status).toBe(401);
  });
});
