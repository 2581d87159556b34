/**
 * The directory slow, cut off in the middle of a sync, or misconfigured: time-outs, no deletions,
 * a status (or `directory:test` output) that names the setting. A TCP proxy sits between Gatehouse
 * and the real Samba DC; TLS still runs end to end through it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { COMMANDS } from '../../src/cli/commands.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { adminQuery } from '../support/test-db.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { DirectoryArea, pipelined, syncAndWait } from '../support/directory-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

async function cli(env: Record<string, string>, name: string) {
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    const code = await COMMANDS[name].run(loadConfig({ LOG_LEVEL: 'silent', POLICIES_DIR: 'policies', ...env }), []);
    return { code, output: out.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('directory failures (real Samba AD DC behind a TCP proxy)', () => {
  let area: DirectoryArea;
  let proxy: TcpProxy;
  let t: TestApp;
  let admin: string;
  let scratch: string;
  const tag = Math.random().toString(36).slice(2, 6);
  let userDns: string[];

  const q = <T = any>(sql: string, params: unknown[] = []) => adminQuery<T>(sql, params, t.db.env.DATABASE_URL);
  const snapshotOfDb = () =>
    q(
      `SELECT u.username, u.disabled, du.removed_at IS NOT NULL AS removed,
              (SELECT count(*) FROM group_members m WHERE m.user_id = u.id) AS groups
       FROM users u JOIN directory_users du ON du.user_id = u.id ORDER BY u.username`,
    );

  beforeAll(async () => {
    area = await DirectoryArea.create('fail');
    userDns = await pipelined(
      Array.from({ length: 300 }, (_, i) => i),
      (i) => area.addUser({ sam: `f${tag}${i}` }),
    );
    await area.addGroup(`g${tag}`, userDns.slice(0, 100));
    proxy = await startTcpProxy({ host: area.dc.host, port: 636 });
    t = await startTestApp({
      env: area.env({
        LDAP_URL: `ldaps://127.0.0.1:${proxy.port}`,
        LDAP_PAGE_SIZE: '50',
        LDAP_TIMEOUT_MS: '1000',
        LDAP_CONNECT_TIMEOUT_MS: '10000',
      }),
    });
    admin = await login(t.baseUrl);
    expect((await syncAndWait(t.baseUrl, admin, 'full')).lastRun.outcome).toBe('success');
    scratch = mkdtempSync(path.join(tmpdir(), 'gh-dir-fail-'));
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await area?.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('shows progress while a (slow) sync runs', async () => {
    proxy.setDelay(100);
    const phases: any[] = [];
    try {
      const started = await api(t.baseUrl, 'POST', '/api/v1/directory/sync', { token: admin, body: { kind: 'full' } });
      expect(started.status).toBe(202);
      // One sync at a time: a second request while it runs is a 409.
      const again = await api(t.baseUrl, 'POST', '/api/v1/directory/sync', { token: admin, body: {} });
      expect(again.status).toBe(409);
      for (let i = 0; i < 400; i++) {
        const status = (await api(t.baseUrl, 'GET', '/api/v1/directory/status', { token: admin })).body;
        // The 202 comes before the sync's first status write: wait until it has been seen running.
        if (!status.running) {
          if (phases.length > 0) break;
        } else phases.push(status.running);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      proxy.setDelay(0);
    }
    expect(phases).toContainEqual(
      expect.objectContaining({ kind: 'full', trigger: 'api', phase: 'reading-users', usersRead: expect.any(Number) }),
    );
    expect(phases.some((p) => p.usersRead > 0)).toBe(true);
  });

  it('a directory slower than LDAP_TIMEOUT_MS: the sync fails clearly and changes nothing', async () => {
    const before = await snapshotOfDb();
    await area.client.del(userDns[299]); // a full sync would remove this user…
    proxy.setDelay(1200);
    try {
      const status = await syncAndWait(t.baseUrl, admin, 'full');
      expect(status.lastRun).toMatchObject({
        outcome: 'failure',
        error: { code: 'directory_timeout', setting: 'LDAP_TIMEOUT_MS' },
      });
      expect(status.running).toBeNull();
      expect(status.lastSuccess.outcome).toBe('success');
    } finally {
      proxy.setDelay(0);
    }
    expect(await snapshotOfDb()).toEqual(before); // …but nothing changed
  });

  it('the directory cut off in the middle of a full sync: nothing is deleted; the next sync completes', async () => {
    const before = await snapshotOfDb();
    proxy.cutAfterBytes(30_000); // a few pages into the user search
    try {
      const status = await syncAndWait(t.baseUrl, admin, 'full');
      expect(status.lastRun).toMatchObject({ outcome: 'failure', error: { setting: 'LDAP_URL' } });
      expect(status.lastRun.error.message).toMatch(/connection to ldaps:\/\/127\.0\.0\.1:\d+ was closed/);
    } finally {
      proxy.cutAfterBytes(undefined);
    }
    expect(await snapshotOfDb()).toEqual(before);
    const failures = await q(
      `SELECT details FROM audit_records WHERE event_type = 'directory.sync' AND outcome = 'failure'`,
    );
    expect(failures.length).toBeGreaterThanOrEqual(2);

    const ok = await syncAndWait(t.baseUrl, admin, 'full');
    expect(ok.lastRun).toMatchObject({ outcome: 'success', counts: { usersRemoved: 1 } });
  });

  // Before any test that starts a second app in this process: Passport keeps one strategy registry
  // per process, so the last app started signs people in for all of them.
  it('a directory slower than the time-out at sign-in: a clear 503, audited, and the person can sign in later', async () => {
    await area.addUser({ sam: `p${tag}`, password: 'Person-Passw0rd!' });
    await syncAndWait(t.baseUrl, admin, 'incremental');
    const body = { username: `p${tag}`, password: 'Person-Passw0rd!' };
    proxy.setDelay(1200); // more than LDAP_TIMEOUT_MS (1000) per answer
    try {
      const slow = await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body });
      expect(slow.status).toBe(503);
      expect(slow.body.error.message).toMatch(/directory cannot be reached/);
    } finally {
      proxy.setDelay(0);
    }
    const audit = await q<{ details: any }>(
      `SELECT details FROM audit_records WHERE event_type = 'auth.login' AND actor_id = $1 ORDER BY seq DESC LIMIT 1`,
      [`p${tag}`],
    );
    expect(audit[0].details).toMatchObject({ reason: 'directory_unavailable', error: { setting: 'LDAP_TIMEOUT_MS' } });
    expect((await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body })).status).toBe(200);
  });

  it('a service account that may not read tombstones: an incremental sync still finds deletions', async () => {
    const password = 'Svc-account-Passw0rd!';
    const svcDn = await area.addUser({ sam: `svc${tag}`, password });
    const svc = await startTestApp({
      env: area.env({
        LDAP_BIND_DN: svcDn,
        LDAP_BIND_PASSWORD: password,
        LDAP_USER_FILTER: `(!(sAMAccountName=svc${tag}))`,
      }),
    });
    try {
      const token = await login(svc.baseUrl);
      expect((await syncAndWait(svc.baseUrl, token, 'full')).lastRun.outcome).toBe('success');
      await area.client.del(userDns[298]);
      const status = await syncAndWait(svc.baseUrl, token, 'incremental');
      // The whole run on failure, so that a failure says why.
      if (status.lastRun.outcome !== 'success') expect(status.lastRun).toEqual({ outcome: 'success' });
      expect(status.lastRun).toMatchObject({ outcome: 'success', kind: 'incremental', counts: { usersRemoved: 1 } });
      // Samba, like AD, shows a plain account no tombstones: deletions are found by GUID instead.
      expect(status.lastRun.deletionCheck).toBe('guid-scan');
    } finally {
      await svc.close();
    }
  });

  it('the schedule syncs at start and then every LDAP_INCREMENTAL_SYNC_MINUTES', async () => {
    const scheduled = await startTestApp({
      env: area.env({ LDAP_INCREMENTAL_SYNC_MINUTES: '5', LDAP_FULL_SYNC_MINUTES: '60' }),
    });
    try {
      const token = await login(scheduled.baseUrl);
      let status: any;
      for (let i = 0; i < 200; i++) {
        status = (await api(scheduled.baseUrl, 'GET', '/api/v1/directory/status', { token })).body;
        if (status.lastRun) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Never synced before: the first scheduled sync is a full one.
      expect(status.lastRun).toMatchObject({ trigger: 'schedule', kind: 'full', outcome: 'success' });
    } finally {
      await scheduled.close();
    }
  });

  it('directory:test: a working connection shows what a sync would bring and changes nothing', async () => {
    await area.addUser({ sam: `n${tag}` });
    const before = await snapshotOfDb();
    const { code, output } = await cli({ ...t.db.env, ...area.env() }, 'directory:test');
    // 300 made, 2 deleted by the tests above; a person, the service account and the new one added.
    expect(output).toMatch(/Connection OK\. Read 301 users and 1 groups/);
    expect(output).toMatch(/add 2 users, update 0, remove 1;/);
    expect(code).toBe(0);
    expect(await snapshotOfDb()).toEqual(before);
  });

  it('directory:test over ldap:// with StartTLS', async () => {
    const { code, output } = await cli({ ...t.db.env, ...area.env({ LDAP_URL: area.dc.ldapUrl }) }, 'directory:test');
    expect(output).toMatch(/\(StartTLS\)/);
    expect(output).toMatch(/Connection OK/);
    expect(code).toBe(0);
  });

  it('directory:test names the setting at fault: URL, bind password, CA, certificate name, base DN', async () => {
    const otherCa = selfSignedCertificate(scratch, { subject: '/CN=Not the Samba CA', name: 'other-ca' }).certFile;
    const cases: [Record<string, string>, RegExp][] = [
      [{ LDAP_URL: 'ldaps://127.0.0.1:1' }, /LDAP_URL: cannot reach ldaps:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/],
      [{ LDAP_BIND_PASSWORD: 'wrong-password' }, /LDAP_BIND_DN\/LDAP_BIND_PASSWORD: the directory refused/],
      [{ LDAP_CA_FILE: otherCa }, /LDAP_CA_FILE: the directory's certificate is not trusted/],
      [{ LDAP_TLS_SERVERNAME: 'impostor.hosp.test' }, /LDAP_TLS_SERVERNAME: the directory's certificate does not name/],
      [{ LDAP_BASE_DN: `OU=nowhere,${area.dc.baseDn}` }, /LDAP_BASE_DN: no such entry/],
    ];
    for (const [change, message] of cases) {
      const { code, output } = await cli({ ...t.db.env, ...area.env(change) }, 'directory:test');
      expect({ change, output }).toEqual({ change, output: expect.stringMatching(message) });
      expect(code).toBe(1);
    }
  });

  it('LDAP_TLS_INSECURE turns certificate checks off only when asked, and says so at every start', async () => {
    const insecure = await startTestApp({
      db: t.db,
      env: area.env({ LDAP_TLS_INSECURE: 'true', LDAP_CA_FILE: '', LDAP_TLS_SERVERNAME: '' }),
    });
    try {
      expect(insecure.logs.join('\n')).toMatch(
        /LDAP_TLS_INSECURE=true: the certificate of ldaps:\/\/127\.0\.0\.1:636 is NOT checked/,
      );
      const token = await login(insecure.baseUrl);
      const status = await syncAndWait(insecure.baseUrl, token, 'incremental');
      expect(status).toMatchObject({ lastRun: { outcome: 'success' }, settings: { certificateChecks: false } });
    } finally {
      await insecure.app.close();
    }
    // Without the option, the same set-up (no CA given) is refused.
    const { output } = await cli(
      { ...t.db.env, ...area.env({ LDAP_CA_FILE: '', LDAP_TLS_SERVERNAME: '' }) },
      'directory:test',
    );
    expect(output).toMatch(/LDAP_CA_FILE|LDAP_TLS_SERVERNAME/);
  });
});
