/**
 * Directory sign-in against the real Samba DC: the accepted name forms, refusals that never reach
 * the directory (empty passwords, injection attempts, throttled names), disabled accounts, and
 * roles from directory groups (by name, CN and DN) shown with their source in /auth/me.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { Approvers } from '../../src/approvals/approvers.js';
import { groupMatches } from '../../src/users/roles.service.js';
import { UsersService } from '../../src/users/users.service.js';
import { DirectoryArea, syncAndWait } from '../support/directory-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const PASSWORD = 'Dir3ctory-Pass!word';

describe('directory sign-in (real Samba AD DC)', () => {
  let area: DirectoryArea;
  let proxy: TcpProxy;
  let t: TestApp;
  let admin: string;
  let policiesDir: string;
  const tag = Math.random().toString(36).slice(2, 6);
  const names = {
    ann: `ann${tag}`,
    bob: `bob${tag}`,
    dis: `dis${tag}`,
    paren: `o(b)#${tag}`,
    jozef: `józef${tag}`,
    local: `loc${tag}`,
  };
  let annDn: string;

  beforeAll(async () => {
    area = await DirectoryArea.create('signin');
    const people = await area.ou('People');
    const groups = await area.ou('Groups');
    annDn = await area.addUser(
      { sam: names.ann, cn: `Ann, Radiology (Lead) ${tag}`, upn: `${names.ann}@hosp.test`, password: PASSWORD },
      people,
    );
    const bob = await area.addUser({ sam: names.bob, upn: `bob.${tag}@staff.hosp.test`, password: PASSWORD }, people);
    await area.addUser({ sam: names.dis, password: PASSWORD, disabled: true }, people);
    await area.addUser({ sam: names.local, password: PASSWORD }, people);
    const paren = await area.addUser({ sam: names.paren, cn: `O(B)# \\ * ${tag}`, password: PASSWORD }, people);
    const jozef = await area.addUser({ sam: names.jozef, cn: `Józef Żółć ${tag}`, password: PASSWORD }, people);
    // Nesting: ann ∈ leads ∈ approvers; bob ∈ auditors (referenced by DN); paren ∈ admins (referenced by CN).
    const leads = await area.addGroup(`leads${tag}`, [annDn], groups, `Radiology Leads ${tag}`);
    await area.addGroup(`appr${tag}`, [leads], groups, `Biomed Approvers ${tag}`);
    const auditors = await area.addGroup(`aud${tag}`, [bob], groups, `IT Security ${tag}`);
    await area.addGroup(`adm${tag}`, [paren, jozef], groups, `Gatehouse Admins ${tag}`);
    // Answers (by its CN, in another case) to the name of a local group created below.
    await area.addGroup(`clash${tag}`, [bob], groups, `Night Desk ${tag}`);

    policiesDir = mkdtempSync(path.join(tmpdir(), 'gh-dir-policies-'));
    cpSync('policies', policiesDir, { recursive: true });
    writeFileSync(
      path.join(policiesDir, 'directory-access.yaml'),
      [
        'access:',
        `  - group: appr${tag}`,
        '    role: approver',
        '    devices: [ct-scanners]',
        `  - group: "${auditors.toUpperCase().replace(/,/g, ', ')}"`,
        '    role: auditor',
        `  - group: "gatehouse admins ${tag}"`,
        '    role: admin',
        '',
      ].join('\n'),
    );
    proxy = await startTcpProxy({ host: area.dc.host, port: 636 });
    t = await startTestApp({
      env: {
        ...area.env({ LDAP_URL: `ldaps://127.0.0.1:${proxy.port}` }),
        POLICIES_DIR: policiesDir,
        LOGIN_BACKOFF_AFTER: '3',
        LOGIN_LOCK_AFTER: '4',
      },
    });
    admin = await login(t.baseUrl);
    // A local user whose name a directory account also has: the local user keeps it.
    expect(
      (
        await api(t.baseUrl, 'POST', '/api/v1/users', {
          token: admin,
          body: { username: names.local, password: 'Local-user-password-1' },
        })
      ).status,
    ).toBe(201);
    expect(
      (await api(t.baseUrl, 'POST', '/api/v1/groups', { token: admin, body: { name: `night desk ${tag}` } })).status,
    ).toBe(201);
    const status = await syncAndWait(t.baseUrl, admin, 'full');
    expect(status.lastRun).toMatchObject({ outcome: 'success', kind: 'full' });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await area?.dispose();
    if (policiesDir) rmSync(policiesDir, { recursive: true, force: true });
  });

  const signIn = (username: unknown, password: unknown) =>
    api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username, password } });

  it('accepts user, user@domain (UPN and DNS domain) and DOMAIN\\user, binding over TLS', async () => {
    for (const name of [
      names.ann,
      `${names.ann}@hosp.test`,
      `HOSP\\${names.ann}`,
      `hosp.test\\${names.ann.toUpperCase()}`,
    ]) {
      const res = await signIn(name, PASSWORD);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
    expect(proxy.connections).toBeGreaterThanOrEqual(4); // each sign-in bound through the proxy
    // A UPN that differs from the account name.
    expect((await signIn(`bob.${tag}@staff.hosp.test`, PASSWORD)).status).toBe(200);
    // Names with LDAP special characters and non-ASCII letters.
    expect((await signIn(names.paren, PASSWORD)).status).toBe(200);
    expect((await signIn(names.jozef, PASSWORD)).status).toBe(200);
    // Another domain's name is not ours.
    expect((await signIn(`OTHER\\${names.ann}`, PASSWORD)).status).toBe(401);
  });

  it('shows roles from nested directory groups (by name, DN and CN) and where they come from', async () => {
    const ann = await login(t.baseUrl, names.ann, PASSWORD);
    const me = await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: ann });
    expect(me.body).toMatchObject({
      username: names.ann,
      source: 'directory',
      displayName: `Ann, Radiology (Lead) ${tag}`,
    });
    expect(me.body.roles).toEqual([
      {
        role: 'approver',
        devices: ['ct-scanners'],
        via: [`appr${tag}`],
        from: [{ group: `appr${tag}`, source: 'directory' }],
      },
    ]);
    const bob = await login(t.baseUrl, names.bob, PASSWORD);
    expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: bob })).body.roles).toMatchObject([
      { role: 'auditor', devices: '*', from: [{ group: `aud${tag}`, source: 'directory' }] },
    ]);
    const paren = await login(t.baseUrl, names.paren, PASSWORD);
    expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: paren })).body.roles).toMatchObject([
      { role: 'admin', devices: '*', via: [`gatehouse admins ${tag}`] },
    ]);
    expect((await api(t.baseUrl, 'GET', '/api/v1/directory/status', { token: paren })).status).toBe(200);
  });

  it('resolves approver groups of rules (name, CN or DN, nested) to the directory groups a person is in', async () => {
    const users = t.app.get(UsersService);
    const ann = (await users.findByUsername(names.ann))!;
    const leadsDn = `CN=Radiology Leads ${tag},OU=Groups,${area.dn}`;
    const refs = [`appr${tag}`, `Radiology Leads ${tag}`, leadsDn.toLowerCase(), `aud${tag}`, 'Biomed-Approvers'];
    // As approvals see a person (approvers.ts) and match a rule's approver groups (roles.service.ts).
    const matching = async (userId: string) => {
      const person = await t.app.get(Approvers).approver(userId);
      return refs.filter((ref) => person.groups.some((g) => groupMatches(g, ref)));
    };
    expect(await matching(ann.id)).toEqual([`appr${tag}`, `Radiology Leads ${tag}`, leadsDn.toLowerCase()]);
    const bob = (await users.findByUsername(names.bob))!;
    expect(await matching(bob.id)).toEqual([`aud${tag}`]);
  });

  it('refuses a wrong password, a disabled account, and empty or whitespace passwords (the latter before any bind)', async () => {
    expect((await signIn(names.bob, 'wrong-password')).status).toBe(401);
    const before = proxy.connections;
    expect((await signIn(names.dis, PASSWORD)).status).toBe(401);
    expect((await signIn(names.bob, '   ')).status).toBe(401);
    expect((await signIn(names.bob, '')).status).toBe(400);
    expect(proxy.connections).toBe(before);
    const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=auth.login&limit=10', { token: admin });
    const reasons = audit.body.items.filter((r: any) => r.outcome === 'failure').map((r: any) => r.details.reason);
    expect(reasons).toEqual(expect.arrayContaining(['bad_password', 'disabled', 'empty_password', 'invalid_request']));
  });

  it('never sends injection attempts to the directory, and answers them like any wrong sign-in', async () => {
    const before = proxy.connections;
    for (const name of [
      '*',
      `${names.ann})(|(objectClass=*`,
      `*)(sAMAccountName=*`,
      `HOSP\\*`,
      `${names.ann}*`,
      '\\2a',
      `cn=${names.ann},dc=hosp`,
      `${names.ann}\u0000`,
    ]) {
      const res = await signIn(name, PASSWORD);
      expect({ name, status: res.status }).toEqual({ name, status: name.includes('\u0000') ? 400 : 401 });
    }
    expect(proxy.connections).toBe(before);
  });

  it('answers malformed sign-ins with 400 and audits them', async () => {
    for (const body of [
      { username: 42, password: PASSWORD },
      { username: names.ann },
      { username: 'x'.repeat(300), password: 'p' },
      { username: names.ann, password: PASSWORD, extra: 1 },
    ]) {
      const res = await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body });
      expect(res.status).toBe(400);
    }
  });

  it('throttles failed sign-ins per account, whatever name form is used, and stops binding before AD would lock it', async () => {
    const forms = [names.jozef, `${names.jozef}@hosp.test`, `HOSP\\${names.jozef}`];
    const start = proxy.connections;
    for (const name of forms) expect((await signIn(name, 'not-the-password')).status).toBe(401);
    const before = proxy.connections;
    expect(before - start).toBe(3); // one bind each (Samba does not keep badPwdCount for LDAP binds to check)
    // In back-off right after the third failure, and once it is over still held: LDAP_MAX_FAILED_BINDS
    // (3) failed binds is all a directory account gets in a window, even with the right password.
    expect((await signIn(names.jozef, PASSWORD)).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    const held = await signIn(`${names.jozef}@hosp.test`, PASSWORD);
    expect([held.status, held.body.error.message]).toEqual([
      429,
      expect.stringMatching(/before the directory would lock/),
    ]);
    expect(proxy.connections).toBe(before); // neither reached the directory
  });

  it('keeps a local user of the same name as a directory account, and says so in the status', async () => {
    const status = await api(t.baseUrl, 'GET', '/api/v1/directory/status', { token: admin });
    // Likewise a local group against a directory group answering to its name by CN, in another case.
    expect(status.body.warnings).toContain(`group clash${tag}: a local group has this name (the local group keeps it)`);
    const groups = await api(t.baseUrl, 'GET', '/api/v1/groups', { token: admin });
    expect(groups.body.find((g: { name: string }) => g.name === `night desk ${tag}`)).toMatchObject({
      source: 'local',
      members: [],
    });
    expect(status.body.warnings).toContain(`user ${names.local}: a local user has this name (the local user keeps it)`);
    expect((await signIn(names.local, 'Local-user-password-1')).status).toBe(200);
    expect((await signIn(names.local, PASSWORD)).status).toBe(401);
  });

  it('with the directory down: directory users get 503, the local administrator signs in, roles stay', async () => {
    const ann = await login(t.baseUrl, names.ann, PASSWORD);
    await proxy.stop();
    try {
      // More tries than LOGIN_LOCK_AFTER (4): an outage checks no password, so it counts none.
      for (let i = 0; i < 6; i++) {
        const res = await signIn(names.ann, PASSWORD);
        expect(res.status).toBe(503);
        expect(res.body.error.message).toMatch(/directory cannot be reached/);
      }
      expect((await signIn('admin', (await import('../support/test-app.js')).ADMIN_PASSWORD)).status).toBe(200);
      const me = await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: ann });
      expect(me.body.roles).toMatchObject([{ role: 'approver' }]);
      // A sync fails clearly and changes nothing.
      const status = await syncAndWait(t.baseUrl, admin, 'full');
      expect(status.lastRun).toMatchObject({ outcome: 'failure', error: { setting: 'LDAP_URL' } });
      expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: ann })).body.roles).toMatchObject([
        { role: 'approver' },
      ]);
      const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=auth.login&limit=5', { token: admin });
      expect(audit.body.items.map((r: any) => r.details.reason)).toContain('directory_unavailable');
    } finally {
      await proxy.start();
    }
    expect((await signIn(names.ann, PASSWORD)).status).toBe(200); // not locked out by the outage
  });

  it('lets a directory approver decide a request whose rule names their group by DN, but never their own (UPN)', async () => {
    const apprDn = `CN=Biomed Approvers ${tag},OU=Groups,${area.dn}`;
    const rule = {
      id: `dir-approvals-${tag}`,
      effect: 'ask',
      actions: ['x-dir-check'],
      devices: ['ct-scanners'],
      approval: { approvers: [apprDn], required: 1, timeoutMinutes: 60 },
    };
    const created = await api(t.baseUrl, 'POST', '/api/v1/policies/console-rules', { token: admin, body: { rule } });
    expect(created.status).toBe(201);
    const ct = await enrollDevice(t.baseUrl, admin, { deviceId: `ct-dir-${tag}`, model: 'SOMATOM X.cite' });
    const ann = await login(t.baseUrl, names.ann, PASSWORD);
    const vendors = decisionBody({ action: 'x-dir-check', remoteUser: { id: 'vendor@acme.example' } });
    const hers = decisionBody({ action: 'x-dir-check', remoteUser: { id: `${names.ann}@hosp.test` } });
    for (const body of [vendors, hers]) {
      const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body });
      expect(res.body.status).toBe('pending');
    }
    // ann is in appr through nesting (ann ∈ leads ∈ appr), and appr is an approver for CT scanners.
    const view = await api(t.baseUrl, 'GET', `/api/v1/approvals/${vendors.requestId}`, { token: ann });
    expect(view.body).toMatchObject({ youMayDecide: true, approval: { approvers: [apprDn] } });
    expect(view.body.eligibleApprovers).toEqual([names.ann]);
    const own = await api(t.baseUrl, 'POST', `/api/v1/approvals/${hers.requestId}/approve`, { token: ann, body: {} });
    expect([own.status, own.body.error?.message]).toEqual([
      403,
      'You cannot decide a request made under your own identity',
    ]);
    const res = await api(t.baseUrl, 'POST', `/api/v1/approvals/${vendors.requestId}/approve`, {
      token: ann,
      body: {},
    });
    expect(res.body.status).toBe('approved');
  });
});
