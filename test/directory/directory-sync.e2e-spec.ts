/**
 * Sync of a realistic directory on the real Samba DC: OUs, 2,000 users, 200 groups nested three
 * levels deep (and one cycle), disabled users, names with LDAP special characters and non-ASCII
 * letters. Then changes (add to a group, remove, disable, rename, delete) reflected by an
 * incremental sync, with the role changes audited.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { adminQuery } from '../support/test-db.js';
import { DirectoryArea, pipelined, syncAndWait } from '../support/directory-fixture.js';

const USERS = 2000;
const LEAF_GROUPS = 150;
const MID_GROUPS = 40;
const TOP_GROUPS = 10;
const PASSWORD = 'Sync-test-Passw0rd!';

describe('directory sync of a realistic directory (real Samba AD DC)', () => {
  let area: DirectoryArea;
  let t: TestApp;
  let admin: string;
  let policiesDir: string;
  const tag = Math.random().toString(36).slice(2, 6);
  const sam = (i: number) => `u${tag}${i}`;
  /** Every 40th user's name carries the characters LDAP filters and DNs must escape. */
  const cnOf = (i: number) => (i % 40 === 7 ? `Ünal, Zoë (Rad) #${i} * \\ ${tag}` : `User ${i} ${tag}`);
  const disabled = (i: number) => i % 25 === 3;
  const userDns: string[] = [];
  const movedDn = () => `CN=Moved ${tag},CN=Users,${area.dc.baseDn}`;
  const leafDns: string[] = [];
  const midDns: string[] = [];
  const topDns: string[] = [];
  /** Leaf group of user i (round robin), mid group of a leaf, top group of a mid. */
  const leafOf = (i: number) => i % LEAF_GROUPS;
  const midOf = (leaf: number) => leaf % MID_GROUPS;
  const topOf = (mid: number) => mid % TOP_GROUPS;

  const q = <T = any>(sql: string, params: unknown[] = []) => adminQuery<T>(sql, params, t.db.env.DATABASE_URL);
  const rolesOf = async (username: string) => {
    const token = await login(t.baseUrl, username, PASSWORD);
    return (await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token })).body.roles.map((r: any) => r.role);
  };
  const groupsOf = async (username: string) =>
    (
      await q<{ name: string }>(
        `SELECT g.name FROM groups g JOIN group_members m ON m.group_id = g.id JOIN users u ON u.id = m.user_id
         WHERE u.username = $1 ORDER BY g.name`,
        [username],
      )
    ).map((r) => r.name);

  beforeAll(async () => {
    const started = Date.now();
    area = await DirectoryArea.create('sync');
    const ous = await pipelined(['Radiology', 'Cardiology', 'Laboratory', 'Biomed', 'IT'], (name) => area.ou(name));
    const groupsOu = await area.ou('Groups');
    // Users 0..11 sign in, so they get a password (the DC hashes it: slower); the rest do not.
    userDns.push(
      ...(await pipelined(
        Array.from({ length: USERS }, (_, i) => i),
        (i) =>
          area.addUser(
            {
              sam: sam(i),
              cn: cnOf(i),
              upn: `${sam(i)}@hosp.test`,
              mail: `${sam(i)}@hosp.example`,
              disabled: disabled(i),
              ...(i < 12 ? { password: PASSWORD } : {}),
            },
            ous[i % ous.length],
          ),
      )),
    );
    leafDns.push(
      ...(await pipelined(
        Array.from({ length: LEAF_GROUPS }, (_, g) => g),
        (g) =>
          area.addGroup(
            `l${tag}${g}`,
            userDns.filter((_, i) => leafOf(i) === g),
            groupsOu,
            `Leaf ${g} ${tag}`,
          ),
      )),
    );
    midDns.push(
      ...(await pipelined(
        Array.from({ length: MID_GROUPS }, (_, g) => g),
        (g) =>
          area.addGroup(
            `m${tag}${g}`,
            leafDns.filter((_, leaf) => midOf(leaf) === g),
            groupsOu,
            `Mid ${g} ${tag}`,
          ),
      )),
    );
    topDns.push(
      ...(await pipelined(
        Array.from({ length: TOP_GROUPS }, (_, g) => g),
        (g) =>
          area.addGroup(
            `t${tag}${g}`,
            midDns.filter((_, mid) => topOf(mid) === g),
            groupsOu,
            `Top (${g}) #${tag}`,
          ),
      )),
    );
    // A cycle: Top 0 ∈ Leaf 0 ∈ Mid 0 ∈ Top 0.
    await area.addMembers(leafDns[0], [topDns[0]]);

    policiesDir = mkdtempSync(path.join(tmpdir(), 'gh-dir-policies-'));
    cpSync('policies', policiesDir, { recursive: true });
    writeFileSync(
      path.join(policiesDir, 'directory-access.yaml'),
      [
        'access:',
        `  - group: "${topDns[1]}"`, // by DN (with a '(' and '#' in it)
        '    role: approver',
        '    devices: [ct-scanners]',
        `  - group: "Mid 5 ${tag}"`, // by CN
        '    role: auditor',
        `  - group: l${tag}7`, // by name
        '    role: viewer',
        '',
      ].join('\n'),
    );
    t = await startTestApp({ env: { ...area.env({ LDAP_PAGE_SIZE: '300' }), POLICIES_DIR: policiesDir } });
    admin = await login(t.baseUrl);
    process.stderr.write(`[directory-sync] built ${USERS} users and 200 groups in ${Date.now() - started} ms\n`);
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await area?.client.del(movedDn()).catch(() => undefined);
    await area?.dispose();
    if (policiesDir) rmSync(policiesDir, { recursive: true, force: true });
  });

  it('full sync: every user and group, nesting resolved three levels deep and through a cycle', async () => {
    const status = await syncAndWait(t.baseUrl, admin, 'full');
    expect(status.lastRun).toMatchObject({
      outcome: 'success',
      kind: 'full',
      counts: {
        usersInDirectory: USERS,
        groupsInDirectory: 200,
        usersAdded: USERS,
        groupsAdded: 200,
        usersRemoved: 0,
      },
    });
    expect(status.lastFullSuccessAt).toBe(status.lastRun.finishedAt);
    expect(status.settings).toMatchObject({ certificateChecks: true, baseDn: area.dn });
    expect(JSON.stringify(status)).not.toContain(area.dc.adminPassword);

    // User 1: leaf 1 ∈ mid 1 ∈ top 1 → approver for CT scanners (top 1 named by its DN).
    expect(await groupsOf(sam(1))).toEqual([`l${tag}1`, `m${tag}1`, `t${tag}1`]);
    expect(await rolesOf(sam(1))).toEqual(['approver']);
    // User 0: leaf 0 ∈ mid 0 ∈ top 0 ∈ leaf 0 (the cycle) — resolved once each.
    expect(await groupsOf(sam(0))).toEqual([`l${tag}0`, `m${tag}0`, `t${tag}0`]);
    // User 5: mid 5 by CN → auditor; user 7: leaf 7 by name → viewer, and top 7 ∌ … no approver.
    expect(await rolesOf(sam(5))).toEqual(['auditor']);
    expect(await rolesOf(sam(7))).toEqual(['viewer']);

    // Disabled users hold no group and cannot sign in.
    expect(await groupsOf(sam(3))).toEqual([]);
    const [{ count: disabledCount }] = await q<{ count: string }>(
      `SELECT count(*) FROM users WHERE source = 'directory' AND disabled`,
    );
    expect(Number(disabledCount)).toBe(Array.from({ length: USERS }, (_, i) => i).filter(disabled).length);
    // Special characters and non-ASCII letters arrive intact.
    const [special] = await q<{ display_name: string; dn: string }>(
      `SELECT u.display_name, du.dn FROM users u JOIN directory_users du ON du.user_id = u.id WHERE u.username = $1`,
      [sam(47)],
    );
    expect(special.display_name).toBe(cnOf(47));
    expect(special.dn).toContain('Ünal');
    // Every enabled user is in its leaf, mid and top group; under Top 0 also in Leaf 0 and Mid 0 (the cycle).
    const expected = (i: number) => {
      const leaf = leafOf(i);
      const groups = new Set([`l${leaf}`, `m${midOf(leaf)}`, `t${topOf(midOf(leaf))}`]);
      if (topOf(midOf(leaf)) === 0) groups.add('l0').add('m0');
      return groups.size;
    };
    const [{ count: memberships }] = await q<{ count: string }>(
      `SELECT count(*) FROM group_members m JOIN users u ON u.id = m.user_id WHERE u.source = 'directory'`,
    );
    const enabledUsers = Array.from({ length: USERS }, (_, i) => i).filter((i) => !disabled(i));
    expect(Number(memberships)).toBe(enabledUsers.reduce((sum, i) => sum + expected(i), 0));
    expect(await groupsOf(sam(10))).toEqual([`l${tag}0`, `l${tag}10`, `m${tag}0`, `m${tag}10`, `t${tag}0`]);

    // Role gains are audited per person.
    const audited = await q<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_records WHERE event_type = 'role.changed' AND actor_id = 'directory-sync'
       AND details->>'username' = $1`,
      [sam(1)],
    );
    expect(audited.map((r) => r.details)).toEqual([
      expect.objectContaining({ gained: ['approver[ct-scanners]'], lost: [], cause: 'directory-sync' }),
    ]);
    const [{ count: roleEvents }] = await q<{ count: string }>(
      `SELECT count(*) FROM audit_records WHERE event_type = 'role.changed' AND actor_id = 'directory-sync'`,
    );
    expect(Number(roleEvents)).toBe(status.lastRun.counts.roleChanges);
  });

  it('a second full sync with nothing changed changes nothing', async () => {
    const status = await syncAndWait(t.baseUrl, admin, 'full');
    expect(status.lastRun.counts).toMatchObject({
      usersAdded: 0,
      usersUpdated: 0,
      usersRemoved: 0,
      groupsAdded: 0,
      groupsUpdated: 0,
      membershipsAdded: 0,
      membershipsRemoved: 0,
      roleChanges: 0,
    });
  });

  it('incremental sync: add to a group, remove, disable, rename and delete are reflected', async () => {
    const [{ id: renamedId }] = await q<{ id: string }>('SELECT id FROM users WHERE username = $1', [sam(2)]);
    const u8Token = await login(t.baseUrl, sam(8), PASSWORD);
    await area.addMembers(leafDns[7], [userDns[4]]); // user 4 gains viewer
    await area.removeMembers(leafDns[1], [userDns[1]]); // user 1 loses approver
    await area.replace(userDns[8], 'userAccountControl', ['514']); // user 8 disabled
    await area.replace(userDns[2], 'sAMAccountName', [`n${tag}2`]); // user 2 renamed…
    await area.client.modifyDN(userDns[2], `CN=Renamed ${tag}`); // …and moved to a new CN
    await area.client.del(userDns[9]); // user 9 deleted
    await area.client.modifyDN(userDns[6], movedDn()); // user 6 moved out of scope

    const status = await syncAndWait(t.baseUrl, admin, 'incremental');
    // Deletions found from tombstones (the Administrator may read them), not by reading every GUID.
    expect(status.lastRun).toMatchObject({ outcome: 'success', kind: 'incremental', deletionCheck: 'tombstones' });
    expect(status.lastRun.counts).toMatchObject({ usersRemoved: 2, usersDisabled: 1 });

    expect(await groupsOf(sam(4))).toContain(`l${tag}7`);
    expect(await rolesOf(sam(4))).toEqual(['viewer']);
    expect(await groupsOf(sam(1))).toEqual([]);
    expect(await rolesOf(sam(1))).toEqual([]);
    // Disabled: no groups, sessions ended, no sign-in.
    expect(await groupsOf(sam(8))).toEqual([]);
    expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: u8Token })).status).toBe(401);
    expect(
      (await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: sam(8), password: PASSWORD } })).status,
    ).toBe(401);
    // Renamed: same Gatehouse user, new name, same groups; the old name no longer signs in.
    const [renamed] = await q<{ id: string; dn: string }>(
      `SELECT u.id, du.dn FROM users u JOIN directory_users du ON du.user_id = u.id WHERE u.username = $1`,
      [`n${tag}2`],
    );
    expect(renamed).toEqual({ id: renamedId, dn: expect.stringContaining(`CN=Renamed ${tag}`) });
    expect(await rolesOf(`n${tag}2`)).toEqual([]);
    expect(await groupsOf(`n${tag}2`)).toEqual([`l${tag}2`, `m${tag}2`, `t${tag}2`]);
    // Deleted: kept for the record, disabled, in no group, its name freed.
    const [gone] = await q<{ username: string; disabled: boolean; removed: boolean }>(
      `SELECT u.username, u.disabled, du.removed_at IS NOT NULL AS removed FROM users u
       JOIN directory_users du ON du.user_id = u.id WHERE u.display_name = $1`,
      [cnOf(9)],
    );
    expect(gone).toMatchObject({ disabled: true, removed: true, username: expect.stringMatching(/~removed-/) });
    // Moved out of scope: the same.
    const [moved] = await q<{ disabled: boolean; groups: string }>(
      `SELECT u.disabled, (SELECT count(*) FROM group_members m WHERE m.user_id = u.id) AS groups
       FROM users u WHERE u.display_name = $1`,
      [cnOf(6)],
    );
    expect(moved).toEqual({ disabled: true, groups: '0' });

    const audit = await api(t.baseUrl, 'GET', `/api/v1/audit?eventType=role.changed&actor=directory-sync&limit=20`, {
      token: admin,
    });
    const changes = Object.fromEntries(
      audit.body.items.slice(0, status.lastRun.counts.roleChanges).map((r: any) => [r.details.username, r.details]),
    );
    expect(changes[sam(4)]).toMatchObject({ gained: ['viewer[*]'], lost: [] });
    expect(changes[sam(1)]).toMatchObject({ gained: [], lost: ['approver[ct-scanners]'] });
  });

  it('a group rename keeps its members; a policy naming its old DN no longer matches it', async () => {
    expect(await rolesOf(sam(11))).toEqual(['approver']);
    await area.client.modifyDN(topDns[1], `CN=Top renamed ${tag}`);
    const status = await syncAndWait(t.baseUrl, admin, 'incremental');
    expect(status.lastRun.counts.groupsUpdated).toBe(1);
    expect(await groupsOf(sam(11))).toContain(`t${tag}1`);
    expect(await rolesOf(sam(11))).toEqual([]);
    const [{ aliases }] = await q<{ aliases: string[] }>('SELECT aliases FROM groups WHERE name = $1', [`t${tag}1`]);
    expect(aliases).toContain(`top renamed ${tag}`);
    // The loss is audited: judged with the group's old DN before and its new one after.
    const audited = await q<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_records WHERE event_type = 'role.changed' AND details->>'username' = $1 ORDER BY seq`,
      [sam(11)],
    );
    expect(audited.map((r) => r.details)).toEqual([
      expect.objectContaining({ gained: ['approver[ct-scanners]'], lost: [] }),
      expect.objectContaining({ gained: [], lost: ['approver[ct-scanners]'] }),
    ]);
  });

  it("an administrator's disable of a directory user outlives syncs; re-enabling works without one", async () => {
    const [{ id }] = await q<{ id: string }>('SELECT id FROM users WHERE username = $1', [sam(5)]);
    const disable = await api(t.baseUrl, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: true } });
    expect(disable.status).toBe(200);
    const status = await syncAndWait(t.baseUrl, admin, 'full');
    expect(status.lastRun.outcome).toBe('success');
    const signIn = () =>
      api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: sam(5), password: PASSWORD } });
    expect((await signIn()).status).toBe(401);
    await api(t.baseUrl, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: false } });
    expect((await signIn()).status).toBe(200);
    expect(await rolesOf(sam(5))).toEqual(['auditor']);
  });
});
