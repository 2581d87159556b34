import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { routeTable } from '../support/routes.js';
import { ROUTE_BODY_LIMITS } from '../../src/common/json-body.js';

const deep = '['.repeat(100) + ']'.repeat(100);
/** `parsed`: refused by the body parser, before the route's guard (so whoever sends it). */
const BAD_BODIES: {
  name: string;
  raw?: string;
  body?: unknown;
  headers?: Record<string, string>;
  parsed?: number;
}[] = [
  { name: 'malformed JSON', raw: '{"a":', parsed: 400 },
  { name: 'JSON array', body: [1, 2, 3] },
  { name: 'JSON string', body: 'hello' },
  { name: 'null', raw: 'null' },
  { name: 'deep JSON', raw: deep, parsed: 400 },
  { name: 'prototype pollution', raw: '{"__proto__":{"admin":true}}', parsed: 400 },
  { name: 'unknown fields', body: { status: 'approved', role: 'admin' } },
  { name: 'wrong types', body: { username: 42, password: ['x'], name: {}, disabled: 'yes', description: 7 } },
  { name: 'huge strings', body: { username: 'u'.repeat(5000), password: 'p'.repeat(5000), name: 'n'.repeat(5000) } },
  {
    name: 'NUL characters',
    body: { username: 'a\u0000b', password: 'p\u0000', name: '\u0000', description: '\u0000' },
  },
  { name: 'over 64 KiB', raw: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }), parsed: 413 },
  { name: 'text/plain', raw: 'hello', headers: { 'content-type': 'text/plain' }, parsed: 415 },
];
const BAD_IDS = [
  'not-a-uuid',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'x'.repeat(3000),
  "'; DROP TABLE users; --",
  '*)(uid=*',
];
const BAD_QUERIES = [
  '?limit=-1',
  '?limit=abc',
  '?before=0',
  '?from=yesterday',
  '?sort=password',
  '?limit=1&limit=2',
  '?eventType=' + 'e'.repeat(500),
];

/** Like api(), but a server-sent-events stream is closed once its headers arrive (it never ends). */
async function get(baseUrl: string, path: string, token?: string) {
  if (!path.split('?')[0].endsWith('/events')) return api(baseUrl, 'GET', path, { token });
  const res = await fetch(baseUrl + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, body: undefined };
  }
  return { status: res.status, body: await res.json() };
}

/**
 * What a bad body gets: the parser's refusal first; then 401 from the guard without a
 * credential the route takes (a staff token is none for the agent routes); then 400.
 */
function expectedStatus(
  route: { access: string | undefined },
  bad: (typeof BAD_BODIES)[number],
  auth: 'staff' | 'garbage' | 'none',
  path: string,
): number {
  if (path.length > 2048) return 414; // the URL is refused before its body is read
  // Routes with a larger body limit (json-body.ts) read a 70 KiB body like any other.
  const largerLimit = bad.parsed === 413 && ROUTE_BODY_LIMITS[path] !== undefined;
  if (bad.parsed && !largerLimit) return bad.parsed;
  const access = route.access ?? '';
  if (access === 'public') return 400;
  if (access === 'enrollment token') return auth === 'none' ? 401 : 400;
  if (access === 'device credential') return 401;
  return auth === 'staff' ? 400 : 401;
}

function expectClientError(
  label: string,
  res: { status: number; body: any },
  expected?: number,
  wrong: string[] = [],
): void {
  if (expected !== undefined && res.status !== expected) wrong.push(`${label}: ${res.status}, expected ${expected}`);
  expect([label, res.status < 500]).toEqual([label, true]);
  if (res.status >= 400) {
    expect([label, typeof res.body?.error?.code]).toEqual([label, 'string']);
    expect([label, typeof res.body?.error?.message]).toEqual([label, 'string']);
    expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/); // no stack traces
  }
}

describe('bad input on every route', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Every route is called without credentials too: hundreds of 401s from one address, which
    // the address limit (test/throttling) would answer 429.
    t = await startTestApp({
      env: { LOGIN_BACKOFF_AFTER: '90', LOGIN_LOCK_AFTER: '100', ADDRESS_FAILURE_LIMIT: '100000' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the expected 4xx for each bad body (400, 401, 413, 415) in the error shape, never 5xx', async () => {
    const routes = (await routeTable(t.baseUrl)).filter((r) => r.path !== '/api/v1/auth/logout');
    const token = await login(t.baseUrl);
    const wrong: string[] = [];
    const calls: (() => Promise<void>)[] = [];
    for (const route of routes) {
      const ids = route.path.includes('{') ? BAD_IDS : [''];
      for (const id of ids) {
        const path = route.path.replace(/\{[^}]+\}/g, id);
        for (const [who, auth] of [
          ['staff', token],
          ['garbage', 'garbage.token.value'],
          ['none', undefined],
        ] as const) {
          if (route.method === 'GET') {
            for (const q of ['', ...BAD_QUERIES]) {
              calls.push(async () => expectClientError(`GET ${path}${q}`, await get(t.baseUrl, path + q, auth)));
            }
            continue;
          }
          for (const bad of BAD_BODIES) {
            calls.push(async () => {
              const res = await api(t.baseUrl, route.method, path, {
                token: auth,
                body: bad.body,
                rawBody: bad.raw,
                headers: bad.headers,
              });
              expectClientError(
                `${route.method} ${path} (${bad.name}, ${who})`,
                res,
                expectedStatus(route, bad, who, path),
                wrong,
              );
            });
          }
        }
      }
    }
    // A few calls in flight at a time: the server is not idle between one answer and the next
    // call (the calls change nothing, so their order does not matter).
    const queue = [...calls];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let call = queue.shift(); call; call = queue.shift()) await call();
      }),
    );
    expect(wrong).toEqual([]);
    expect(calls.length).toBeGreaterThan(200);
    // Nothing was lost or changed: the administrator still signs in and the chain verifies.
    const verify = await api(t.baseUrl, 'GET', '/api/v1/audit/verify', { token: await login(t.baseUrl) });
    expect(verify.body.ok).toBe(true);
    // ~1,300 calls: the audit export and request-story routes added ~170; on this shared
    // 2-core machine (load average 20-35) the run took over 120 s.
  }, 240_000);

  it('answers 413 for bodies over 64 KiB and 400 for deep JSON', async () => {
    const big = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
      rawBody: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const nested = await api(t.baseUrl, 'POST', '/api/v1/auth/login', { rawBody: deep });
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toMatch(/nested deeper/);
  });

  it('rejects unknown fields instead of ignoring them (no mass assignment)', async () => {
    const token = await login(t.baseUrl);
    const res = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token,
      body: { username: 'mallory', password: 'Long-enough-passphrase', source: 'directory', disabled: false },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].problem).toMatch(/unknown field\(s\): source, disabled/);
    const users = await api(t.baseUrl, 'GET', '/api/v1/users', { token });
    expect(users.body.map((u: { username: string }) => u.username)).not.toContain('mallory');
  });

  it('carries a request id on every response, and keeps a sane one the caller sent', async () => {
    const mine = await api(t.baseUrl, 'GET', '/health/live', { headers: { 'x-request-id': 'trace-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-123');
    const odd = await api(t.baseUrl, 'GET', '/health/live', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.logs.some((l) => l.includes('"requestId":"trace-123"'))).toBe(true);
  });

  it('refuses NUL in free text (names, descriptions) with 400 and stores nothing', async () => {
    const token = await login(t.baseUrl);
    const group = await api(t.baseUrl, 'POST', '/api/v1/groups', {
      token,
      body: { name: 'nul-test', description: 'a\u0000b' },
    });
    expect(group.status).toBe(400);
    const user = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token,
      body: { username: 'nul-test', displayName: 'A\u0000', password: 'a long enough password' },
    });
    expect(user.status).toBe(400);
    const groups = await api(t.baseUrl, 'GET', '/api/v1/groups', { token });
    expect(JSON.stringify(groups.body)).not.toContain('nul-test');
  });

  it('refuses any body on the routes that take none (400), and takes none or {}', async () => {
    const token = await login(t.baseUrl);
    const enrollment = await api(t.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token,
      body: { expiresInHours: 1, maxUses: 1 },
    });
    const bodyless = [
      `/api/v1/enrollment-tokens/${enrollment.body.id}/revoke`,
      '/api/v1/policies/reload',
      '/api/v1/devices/no-such-device/revoke',
      '/api/v1/devices/no-such-device/reset',
      '/api/v1/users/admin/unlock',
      '/api/v1/grants/00000000-0000-4000-8000-000000000000/end',
    ];
    for (const path of bodyless) {
      for (const body of [{ status: 'approved' }, [], 'x']) {
        const res = await api(t.baseUrl, 'POST', path, { token, body });
        expect([path, body, res.status, res.body.error.message]).toEqual([path, body, 400, 'This route takes no body']);
      }
      const nullBody = await api(t.baseUrl, 'POST', path, { token, rawBody: 'null' });
      expect([path, nullBody.status]).toEqual([path, 400]);
    }
    expect((await api(t.baseUrl, 'POST', '/api/v1/policies/reload', { token, body: {} })).status).toBe(200);
    expect((await api(t.baseUrl, 'POST', '/api/v1/policies/reload', { token })).status).toBe(200);
    const revoked = await api(t.baseUrl, 'POST', `/api/v1/enrollment-tokens/${enrollment.body.id}/revoke`, { token });
    expect(revoked.status).toBe(200);
  });

  it('sends security headers', async () => {
    const res = await api(t.baseUrl, 'GET', '/health/live');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});
