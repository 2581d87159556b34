import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, ADMIN_PASSWORD, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { clientAt } from '../support/from-address.js';

// Lock-outs must not be a denial of service: an attacker's failures hold their own address,
// never the break-glass administrator signing in from elsewhere (issue 11).
describe('sign-in lock-outs per account and source address', () => {
  let t: TestApp;
  const clock = new TestClock();
  const attacker = clientAt('127.0.0.2');
  const adminDesk = clientAt('127.0.0.3');
  const otherAttackers = ['127.0.0.4', '127.0.0.5', '127.0.0.6'].map(clientAt);
  const signIn = (from: ReturnType<typeof clientAt>, username: string, password: string) =>
    from.post(`${t.baseUrl}/api/v1/auth/login`, { username, password });

  beforeAll(async () => {
    t = await startTestApp({
      clock,
      env: { LOGIN_BACKOFF_AFTER: '3', LOGIN_LOCK_AFTER: '4', LOGIN_ACCOUNT_LOCK_AFTER: '6', LOGIN_LOCK_MINUTES: '15' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('holds the failing address, and lets the administrator in from another address', async () => {
    // More failures than the pair lock and the account-wide lock, repeated as each lock ends.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 8; i++) {
        await signIn(attacker, 'admin', `guess-${round}-${i}`);
        clock.advance(61_000); // past every back-off, inside the lock
      }
      const held = await signIn(attacker, 'admin', ADMIN_PASSWORD);
      expect(held.status).toBe(429);
      expect(held.body.error.code).toBe('rate_limited');
      expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
      // The administrator, from a desk that has not been failing, signs in with the right password.
      const admin = await signIn(adminDesk, 'admin', ADMIN_PASSWORD);
      expect(admin.status).toBe(200);
      clock.advance(16 * 60_000); // the lock ends; the attacker starts again
    }
  });

  it('locks an ordinary account everywhere when many addresses fail at it, not one', async () => {
    const created = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: await login(t.baseUrl),
      body: { username: 'nurse', password: 'Lantern-harbor-quartz' },
    });
    expect(created.status).toBe(201);
    // One address alone: locks only itself (4 < LOGIN_ACCOUNT_LOCK_AFTER = 6).
    for (let i = 0; i < 4; i++) {
      await signIn(otherAttackers[0], 'nurse', 'wrong');
      clock.advance(61_000);
    }
    expect((await signIn(otherAttackers[0], 'nurse', 'Lantern-harbor-quartz')).status).toBe(429);
    expect((await signIn(adminDesk, 'nurse', 'Lantern-harbor-quartz')).status).toBe(200);
    // Several addresses together past LOGIN_ACCOUNT_LOCK_AFTER: the account is locked for all.
    for (const from of otherAttackers) {
      for (let i = 0; i < 3; i++) await signIn(from, 'nurse', 'wrong');
      clock.advance(61_000);
    }
    const everywhere = await signIn(adminDesk, 'nurse', 'Lantern-harbor-quartz');
    expect(everywhere.status).toBe(429);
    expect(everywhere.body.error.message).toMatch(/locked/);
    // The administrator's unlock lifts every lock of the account.
    const unlock = await api(t.baseUrl, 'POST', '/api/v1/users/nurse/unlock', { token: await login(t.baseUrl) });
    expect(unlock.status).toBe(204);
    expect((await signIn(otherAttackers[0], 'nurse', 'Lantern-harbor-quartz')).status).toBe(200);
  });

  it('does not exempt the administrator from an address that is failing', async () => {
    clock.advance(16 * 60_000);
    for (const from of otherAttackers) {
      for (let i = 0; i < 3; i++) await signIn(from, 'admin', 'wrong');
      clock.advance(61_000);
    }
    // 127.0.0.4 has failed 3 times (LOGIN_BACKOFF_AFTER): not a clean address, and the account is held.
    expect((await signIn(otherAttackers[0], 'admin', ADMIN_PASSWORD)).status).toBe(429);
    expect((await signIn(adminDesk, 'admin', ADMIN_PASSWORD)).status).toBe(200);
  });
});
