import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

/** policy-files.md "Added keys": a group's access entries in several files give the union of their scopes. */
describe('one group, one role, in the files of two departments', () => {
  let t: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-policies-'));
    const department = (name: string) =>
      writeFileSync(
        join(dir, `${name}.yaml`),
        [
          'deviceGroups:',
          `  - { name: ${name}-scanners, devices: [${name}-1] }`,
          'access:',
          `  - { group: Biomed-Approvers, role: approver, devices: [${name}-scanners] }`,
        ].join('\n'),
      );
    department('ct');
    department('mr');
    t = await startTestApp({ env: { POLICIES_DIR: dir } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the set and gives a member the union of the device scopes', async () => {
    const admin = await login(t.baseUrl);
    expect(
      (await api(t.baseUrl, 'POST', '/api/v1/groups', { token: admin, body: { name: 'Biomed-Approvers' } })).status,
    ).toBe(201);
    const user = { username: 'erin', password: 'Walnut-copper-tide' };
    expect((await api(t.baseUrl, 'POST', '/api/v1/users', { token: admin, body: user })).status).toBe(201);
    const path = '/api/v1/groups/Biomed-Approvers/members/erin';
    expect((await api(t.baseUrl, 'PUT', path, { token: admin })).status).toBe(204);
    const erin = await login(t.baseUrl, user.username, user.password);
    const me = await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token: erin });
    expect(me.body.roles).toEqual([
      expect.objectContaining({ role: 'approver', devices: ['ct-scanners', 'mr-scanners'] }),
    ]);
  });
});
