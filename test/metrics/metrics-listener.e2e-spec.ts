import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../support/free-port.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-db.js';

/** METRICS_LISTEN without METRICS_TOKEN: the bound address is the protection. */
describe('GET /metrics on a separate listener (METRICS_LISTEN), without METRICS_TOKEN', () => {
  let t: TestApp;
  let listener: string;
  let stopped = false;
  beforeAll(async () => {
    const port = await freePort();
    listener = `http://127.0.0.1:${port}`;
    t = await startTestApp({ env: { METRICS_LISTEN: `127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    if (stopped) await t.db.dispose();
    else await t?.close();
  });

  it('serves the metrics there, in a text Prometheus parses, and says at start that no token guards them', async () => {
    const res = await fetch(`${listener}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    // Counters kept in memory and gauges read from the database at the scrape.
    expect(text).toMatch(/^# TYPE gatehouse_decisions_total counter$/m);
    expect(text).toMatch(/^gatehouse_state_read_ok\{reader="pending"\} 1$/m);
    expect(text).toMatch(/^gatehouse_pending_requests 0$/m);
    // Prometheus' own parser (promtool) reads it: exit 3 is lint only, and none of it about ours
    // (prom-client's nodejs_active_*_total gauges have a _total suffix promtool frowns on).
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect([0, 3]).toContain(check.status);
    expect(`${check.stdout}${check.stderr}`.split('\n').filter((l) => /gatehouse_|error/.test(l))).toEqual([]);
    const start = t.logs.find((line) => line.includes('METRICS_LISTEN'));
    expect(JSON.parse(start!)).toMatchObject({
      level: 'warn',
      msg: expect.stringContaining(`Metrics on ${listener}/metrics (METRICS_LISTEN) without a token`),
    });
  });

  it('answers nothing but GET /metrics (404 in the error shape)', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/health/ready'],
      ['GET', '/api/v1/devices'],
      ['GET', '/metrics/x'],
      ['POST', '/metrics'],
      ['DELETE', '/metrics'],
    ]) {
      const res = await fetch(`${listener}${path}`, { method });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(await res.json()).toEqual({
        error: { code: 'not_found', message: 'Only GET /metrics is served on this port (METRICS_LISTEN)', details: [] },
      });
    }
    expect((await fetch(`${listener}/metrics?x=1`)).status).toBe(200);
  });

  it('leaves the main port without metrics (404 naming METRICS_TOKEN), as the token is not set', async () => {
    const res = await api(t.baseUrl, 'GET', '/metrics', { token: 'any-token-at-all-0123456789' });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'not_found',
      message: 'Metrics are served on METRICS_LISTEN only: set METRICS_TOKEN to serve them on this port too',
    });
    expect((await api(t.baseUrl, 'GET', '/metrics')).status).toBe(401);
  });

  it('refuses to start, naming METRICS_LISTEN, when its address is taken', async () => {
    // A second replica on the same PostgreSQL database (the embedded one is one process's).
    const db = t.db.kind === 'postgres' ? t.db : await createTestDatabase();
    try {
      const taken = new URL(listener).host;
      await expect(startTestApp({ db, env: { METRICS_LISTEN: taken } })).rejects.toThrow(
        `METRICS_LISTEN: the address is already in use (another process, or PORT): choose another port (got '${taken}')`,
      );
    } finally {
      if (db !== t.db) await db.dispose();
    }
    // The app that holds it still answers.
    expect((await fetch(`${listener}/metrics`)).status).toBe(200);
  });

  it('is closed when Gatehouse stops (graceful shutdown)', async () => {
    expect((await fetch(`${listener}/metrics`)).status).toBe(200);
    await t.stop(1);
    stopped = true;
    await expect(fetch(`${listener}/metrics`)).rejects.toThrow();
    await expect(fetch(`${t.baseUrl}/health/live`)).rejects.toThrow();
  });
});
