import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('policy set in force', () => {
  let dir: string;
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-policies-'));
    cpSync('policies', dir, { recursive: true });
    t = await startTestApp({ env: { POLICIES_DIR: dir } });
    admin = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the example set at start: ready, with each rule and its source', async () => {
    const ready = await api(t.baseUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    const res = await api(t.baseUrl, 'GET', '/api/v1/policies', { token: admin });
    expect(res.body.inForce).toBe(true);
    expect(res.body.version).toBe(ready.body.checks.policyVersion);
    // Both versions at the top too, for upgrade checks: Gatehouse's is package.json's.
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(ready.body).toMatchObject({ version: pkg.version, policyVersion: res.body.version });
    expect(res.body.rules.length).toBeGreaterThan(10);
    expect(res.body.rules[0].source).toEqual({
      kind: 'file',
      file: expect.stringMatching(/\.yaml$/),
      line: expect.any(Number),
    });
  });

  it('refuses a set that does not validate with 422 naming file and line, and keeps the last good set', async () => {
    const before = (await api(t.baseUrl, 'GET', '/api/v1/policies', { token: admin })).body.version;
    const file = join(dir, 'rules', 'broken.yaml');
    writeFileSync(file, 'rules:\n  - id: broken-rule\n    efect: allow\n    actions: [restart]\n    devices: ["*"]\n');
    const res = await api(t.baseUrl, 'POST', '/api/v1/policies/reload', { token: admin });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toContainEqual({
      field: 'rules/broken.yaml:3',
      problem: expect.stringMatching(/unknown key 'efect'/),
    });
    expect((await api(t.baseUrl, 'GET', '/api/v1/policies', { token: admin })).body.version).toBe(before);
    rmSync(file);
  });

  it('records a change with what changed, and answers it in GET /policies', async () => {
    const file = join(dir, 'rules', 'baseline.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      `${original}\n  - id: test-added-rule\n    effect: deny\n    actions: [x-test]\n    devices: ["*"]\n`.replace(
        /\n\n {2}- id: test/,
        '\n  - id: test',
      ),
    );
    const res = await api(t.baseUrl, 'POST', '/api/v1/policies/reload', { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=policy.changed&limit=1', { token: admin });
    expect(audit.body.items[0]).toMatchObject({
      actorId: 'admin',
      policyVersion: res.body.version,
      details: { added: ['test-added-rule'] },
    });
    writeFileSync(file, original);
  });

  const version = async () =>
    (await api(t.baseUrl, 'GET', '/api/v1/policies', { token: admin })).body.version as string;

  it('reloads by itself when a policy file changes', async () => {
    // Reads the files as they are now: a watcher reload still due from the earlier tests' changes
    // reads the same files, so it cannot change the version (no need to sleep until it has run).
    await api(t.baseUrl, 'POST', '/api/v1/policies/reload', { token: admin });
    const before = await version();
    writeFileSync(
      join(dir, 'rules', 'watched.yaml'),
      'rules:\n  - { id: watched-rule, effect: deny, actions: [x-watch], devices: ["*"] }\n',
    );
    await waitFor(async () => (await version()) !== before, 'the watcher to load the new file');
    rmSync(join(dir, 'rules', 'watched.yaml'));
    await waitFor(async () => (await version()) === before, 'the watcher to load the set without it');
  });
});
