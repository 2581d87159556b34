import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

const rule = {
  id: 'console-deny-x-diagnostics',
  description: 'Nobody runs the vendor diagnostics tool during the audit',
  effect: 'deny',
  actions: ['x-diagnostics'],
  devices: ['ct-scanners'],
};

describe('console rules', () => {
  let t: TestApp;
  let admin: string;
  let ct: string;
  beforeAll(async () => {
    t = await startTestApp({ clock: new TestClock(new Date('2026-11-24T08:00:00Z')) });
    admin = await login(t.baseUrl);
    ct = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-9', model: 'SOMATOM X.cite', site: 'Main campus' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('adds a rule that then decides, shown with its console source; the change is audited', async () => {
    const res = await api(t.baseUrl, 'POST', '/api/v1/policies/console-rules', { token: admin, body: { rule } });
    expect(res.status).toBe(201);
    expect(res.body.changed).toBe(true);
    const set = await api(t.baseUrl, 'GET', '/api/v1/policies', { token: admin });
    expect(set.body.rules.find((r: { id: string }) => r.id === rule.id).source).toEqual({
      kind: 'console',
      id: rule.id,
    });
    const decision = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: ct,
      body: decisionBody({ action: 'x-diagnostics' }),
    });
    expect(decision.body).toMatchObject({ decision: 'deny', policies: [rule.id] });
    const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=policy.changed&limit=1', { token: admin });
    expect(audit.body.items[0].details.added).toEqual([rule.id]);
    const created = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=policy.console_rule_created', {
      token: admin,
    });
    expect(created.body.items[0]).toMatchObject({ actorId: 'admin', details: { ruleId: rule.id } });
  });

  it('validates with the file schema: 422 naming the problem; duplicates of file rule ids refused', async () => {
    const bad = await api(t.baseUrl, 'POST', '/api/v1/policies/console-rules', {
      token: admin,
      body: { rule: { ...rule, id: 'console-bad', efect: 'deny', devices: ['no-such-group'] } },
    });
    expect(bad.status).toBe(422);
    const problems = bad.body.error.details.map((d: { problem: string }) => d.problem).join('\n');
    expect(problems).toMatch(/unknown key 'efect'/);
    const dup = await api(t.baseUrl, 'POST', '/api/v1/policies/console-rules', {
      token: admin,
      body: { rule: { ...rule, id: 'acme-log-uploads' } },
    });
    expect(dup.status).toBe(422);
    expect(JSON.stringify(dup.body.error.details)).toMatch(/acme-log-uploads/);
    expect(
      (await api(t.baseUrl, 'POST', '/api/v1/policies/console-rules', { token: admin, body: { rule } })).status,
    ).toBe(409);
  });

  it('replaces and deletes a rule; only administrators may', async () => {
    await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'viewer1', password: 'Meadow-copper-lantern', groups: ['Biomed-Staff'] },
    });
    const viewer = await login(t.baseUrl, 'viewer1', 'Meadow-copper-lantern');
    expect((await api(t.baseUrl, 'GET', '/api/v1/policies/console-rules', { token: viewer })).status).toBe(200);
    expect(
      (await api(t.baseUrl, 'DELETE', `/api/v1/policies/console-rules/${rule.id}`, { token: viewer })).status,
    ).toBe(403);

    const replaced = await api(t.baseUrl, 'PUT', `/api/v1/policies/console-rules/${rule.id}`, {
      token: admin,
      body: { rule: { ...rule, effect: 'allow' } },
    });
    expect(replaced.status).toBe(200);
    const decision = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: ct,
      body: decisionBody({ action: 'x-diagnostics' }),
    });
    expect(decision.body.decision).toBe('allow');
    expect((await api(t.baseUrl, 'DELETE', `/api/v1/policies/console-rules/${rule.id}`, { token: admin })).status).toBe(
      200,
    );
    expect((await api(t.baseUrl, 'GET', '/api/v1/policies/console-rules', { token: admin })).body).toEqual([]);
    expect((await api(t.baseUrl, 'DELETE', `/api/v1/policies/console-rules/${rule.id}`, { token: admin })).status).toBe(
      404,
    );
  });
});
