import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { api, ADMIN_PASSWORD, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

describe('staff sign-in, sessions and tokens', () => {
  let t: TestApp;
  const clock = new TestClock();

  beforeAll(async () => {
    t = await startTestApp({
      clock,
      env: { LOGIN_BACKOFF_AFTER: '3', LOGIN_LOCK_AFTER: '5', SESSION_IDLE_MINUTES: '30' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates the first administrator from GATEHOUSE_ADMIN_PASSWORD, who signs in and sees their roles', async () => {
    const token = await login(t.baseUrl);
    const me = await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      username: 'admin',
      source: 'local',
      roles: [{ role: 'admin', devices: '*', via: expect.arrayContaining(['gatehouse-admins']) }],
    });
    const setup = await api(t.baseUrl, 'GET', '/api/v1/auth/setup');
    expect(setup.body).toEqual({ setupRequired: false });
  });

  it('answers a wrong password and an unknown user alike, and audits both', async () => {
    const wrong = await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'nope' } });
    const unknown = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
      body: { username: 'ghost', password: 'nope' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('unauthenticated');
    const token = await login(t.baseUrl);
    const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=auth.login&limit=10', { token });
    const outcomes = audit.body.items.map((r: { actorId: string; outcome: string; details: { reason?: string } }) => [
      r.actorId,
      r.outcome,
      r.details.reason ?? null,
    ]);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        ['admin', 'failure', 'bad_password'],
        ['ghost', 'failure', 'unknown_user'],
        ['admin', 'success', null],
      ]),
    );
  });

  it('ends the session at logout: the token stops working', async () => {
    const token = await login(t.baseUrl);
    expect((await api(t.baseUrl, 'POST', '/api/v1/auth/logout', { token })).status).toBe(204);
    const after = await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
  });

  it('ends a session left idle longer than SESSION_IDLE_MINUTES, but not an active one', async () => {
    const idle = await login(t.baseUrl);
    const active = await login(t.baseUrl);
    for (let i = 0; i < 4; i++) {
      clock.advance(10 * 60_000);
      expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: active })).status).toBe(200);
    }
    expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: idle })).status).toBe(401);
  });

  it('refuses tokens with another algorithm, audience or key, and expired ones', async () => {
    const real = await login(t.baseUrl);
    const [header, payload] = real.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const otherKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, aud: 'someone-else' })).toString('base64url')}.${real.split('.')[2]}`;
    for (const token of [unsigned, otherKey, tampered, 'not-a-jwt', '']) {
      const res = await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token });
      expect(res.status).toBe(401);
    }
    clock.advance(9 * 60 * 60_000); // past the 8-hour lifetime
    expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: real })).status).toBe(401);
  });

  it('slows down and then locks a user name after repeated failures, without checking passwords while locked', async () => {
    await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: await login(t.baseUrl),
      body: { username: 'bob', password: 'Tr0ub4dor-and-more-1' },
    });
    const attempt = (password: string) =>
      api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'bob', password } });
    for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401);
    // Back-off: the next attempt within the wait is refused even with the right password.
    const throttled = await attempt('Tr0ub4dor-and-more-1');
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('rate_limited');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    clock.advance(5_000);
    expect((await attempt('wrong')).status).toBe(401);
    clock.advance(5_000);
    expect((await attempt('wrong')).status).toBe(401); // the 5th failure locks
    clock.advance(60_000);
    const locked = await attempt('Tr0ub4dor-and-more-1');
    expect(locked.status).toBe(429);
    expect(locked.body.error.message).toMatch(/locked/);
    // An administrator unlocks it; the right password then works.
    const admin = await login(t.baseUrl);
    expect((await api(t.baseUrl, 'POST', '/api/v1/users/bob/unlock', { token: admin })).status).toBe(204);
    expect((await attempt('Tr0ub4dor-and-more-1')).status).toBe(200);
  });

  it('counts parallel guesses: a burst cannot get more than the lock limit of password checks', async () => {
    const burst = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'burst-target', password: 'guess' } }),
      ),
    );
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
  });

  it('gives a user only the roles of their groups, and audits role changes', async () => {
    const admin = await login(t.baseUrl);
    const created = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'carol', displayName: 'Carol Biomed', password: 'Fennel-lantern-harbor' },
    });
    expect(created.status).toBe(201);
    const carol = await login(t.baseUrl, 'carol', 'Fennel-lantern-harbor');
    expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: carol })).body.roles).toEqual([]);
    expect((await api(t.baseUrl, 'GET', '/api/v1/audit', { token: carol })).status).toBe(403);

    expect((await api(t.baseUrl, 'PUT', '/api/v1/groups/IT-Security/members/carol', { token: admin })).status).toBe(
      204,
    );
    const me = await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: carol });
    expect(me.body.roles).toEqual([
      { role: 'auditor', devices: '*', via: ['IT-Security'], from: [{ group: 'IT-Security', source: 'local' }] },
    ]);
    expect((await api(t.baseUrl, 'GET', '/api/v1/audit', { token: carol })).status).toBe(200);
    // An auditor reads but changes nothing.
    expect((await api(t.baseUrl, 'POST', '/api/v1/groups', { token: carol, body: { name: 'x' } })).status).toBe(403);

    const changes = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=role.changed', { token: admin });
    expect(changes.body.items[0]).toMatchObject({
      actorId: 'admin',
      details: { username: 'carol', group: 'IT-Security', gained: ['auditor[*]'], lost: [] },
    });
  });

  it('ends the sessions of a disabled user', async () => {
    const admin = await login(t.baseUrl);
    const user = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'dave', password: 'Quartz-meadow-violin' },
    });
    const dave = await login(t.baseUrl, 'dave', 'Quartz-meadow-violin');
    expect(
      (await api(t.baseUrl, 'PATCH', `/api/v1/users/${user.body.id}`, { token: admin, body: { disabled: true } }))
        .status,
    ).toBe(200);
    expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: dave })).status).toBe(401);
    const again = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
      body: { username: 'dave', password: 'Quartz-meadow-violin' },
    });
    expect(again.status).toBe(401);
  });

  it('keeps the first password rules: no short or name-containing passwords', async () => {
    const admin = await login(t.baseUrl);
    const short = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'erin', password: 'short' },
    });
    expect(short.status).toBe(400);
    const named = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'erin', password: 'erin-erin-erin-erin' },
    });
    expect(named.status).toBe(400);
    expect(ADMIN_PASSWORD.length).toBeGreaterThanOrEqual(12);
  });
});
