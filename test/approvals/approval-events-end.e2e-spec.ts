import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

/** Opens the approvals event stream; `ended()` resolves with its text when the server ends it. */
async function openStream(baseUrl: string, token: string) {
  const res = await fetch(`${baseUrl}/api/v1/approvals/events`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = '';
  const ended = (async () => {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return text;
      text += Buffer.from(chunk.value).toString('utf8');
    }
  })();
  // Waits for the server's end, or says it did not come within the limit (never a fixed sleep).
  const endsWithin = (ms: number) =>
    Promise.race([ended, new Promise<string>((r) => setTimeout(() => r(`still open after ${ms} ms`), ms).unref())]);
  const connected = async () => {
    while (!/event: resync/.test(text)) await new Promise((r) => setImmediate(r));
  };
  await connected();
  return { endsWithin, cancel: () => reader.cancel() };
}

describe('the approvals event stream ends with its session', () => {
  let t: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '30' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('at logout', async () => {
    const token = await login(t.baseUrl);
    const stream = await openStream(t.baseUrl, token);
    expect((await api(t.baseUrl, 'POST', '/api/v1/auth/logout', { token })).status).toBe(204);
    expect(await stream.endsWithin(10_000)).toMatch(/event: session-ended/);
  });

  it('when the account is disabled', async () => {
    const admin = await login(t.baseUrl);
    const created = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'watcher', password: 'Lantern-harbor-quartz', groups: ['gatehouse-admins'] },
    });
    expect(created.status).toBe(201);
    const stream = await openStream(t.baseUrl, await login(t.baseUrl, 'watcher', 'Lantern-harbor-quartz'));
    const other = await openStream(t.baseUrl, admin);
    const disabled = await api(t.baseUrl, 'PATCH', `/api/v1/users/${created.body.id}`, {
      token: admin,
      body: { disabled: true },
    });
    expect(disabled.status).toBe(200);
    expect(await stream.endsWithin(10_000)).toMatch(/event: session-ended/);
    // Someone else's stream goes on.
    expect(await other.endsWithin(2_500)).toMatch(/^still open/);
    await other.cancel();
  });

  it('when the session goes idle past SESSION_IDLE_MINUTES', async () => {
    const stream = await openStream(t.baseUrl, await login(t.baseUrl));
    clock.advance(31 * 60_000);
    expect(await stream.endsWithin(10_000)).toMatch(/event: session-ended/);
  });
});
