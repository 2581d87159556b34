import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody } from '../support/agent.js';
import { askPending, createApprovalWorld, type ApprovalWorld } from '../support/approvers.js';
import { offlinePolicyDir } from '../support/offline-policies.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';

describe('obligations: attended rules (agent-api.md 1.1)', () => {
  let dir: string;
  let t: TestApp;
  let w: ApprovalWorld;
  const agent = (method: string, path: string, body?: object) =>
    api(t.baseUrl, method, `/api/v1/agent/decisions${path}`, { token: w.ct, body });
  const completion = async (requestId: string) => {
    const items = (await api(t.baseUrl, 'GET', `/api/v1/audit?requestId=${requestId}`, { token: w.admin })).body.items;
    return items.find((r: { eventType: string }) => r.eventType === 'decision.completed');
  };
  const configChange = () => decisionBody({ action: 'config-change' });

  beforeAll(async () => {
    dir = offlinePolicyDir();
    t = await startTestApp({ env: { POLICIES_DIR: dir, DEVICE_RATE_BURST: '1000' } });
    w = await createApprovalWorld(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts local-consent on the allow of an attended rule, in the answer and in every later read', async () => {
    const body = configChange();
    const res = await agent('POST', '', body);
    expect(res.body).toMatchObject({
      decision: 'allow',
      policies: ['attended-config'],
      obligations: ['local-consent'],
    });
    expect((await agent('GET', `/${body.requestId}`)).body.obligations).toEqual(['local-consent']);
    // The same request again: the same answer.
    expect((await agent('POST', '', body)).body).toEqual(res.body);
    // A rule that is not attended: no obligations at all (agents before 1.1 see nothing new).
    const session = await agent('POST', '', decisionBody());
    expect(session.body.decision).toBe('allow');
    expect(session.body).not.toHaveProperty('obligations');
  });

  it("flags a completion of an attended allow without the operator's consent, and records one with it", async () => {
    const without = configChange();
    await agent('POST', '', without);
    expect((await agent('POST', `/${without.requestId}/complete`, { outcome: 'succeeded' })).status).toBe(200);
    expect((await completion(without.requestId)).details).toMatchObject({ outcome: 'succeeded', consentMissing: true });

    const withConsent = configChange();
    await agent('POST', '', withConsent);
    const consent = { by: 'Nurse J. Smith (badge 4711)', at: '2026-11-24T09:01:00+01:00' };
    const done = await agent('POST', `/${withConsent.requestId}/complete`, { outcome: 'succeeded', consent });
    expect(done.status).toBe(200);
    const record = await completion(withConsent.requestId);
    expect(record.details.consent).toEqual(consent);
    expect(record.details).not.toHaveProperty('consentMissing');

    // Not attended: no consent needed, nothing flagged.
    const session = decisionBody();
    await agent('POST', '', session);
    await agent('POST', `/${session.requestId}/complete`, { outcome: 'succeeded' });
    expect((await completion(session.requestId)).details).not.toHaveProperty('consentMissing');

    // The intervention reports say so (built from the audit trail alone).
    const report = async (id: string) => {
      const res = await fetch(`${t.baseUrl}/api/v1/reports/interventions/${id}?format=html`, {
        headers: { authorization: `Bearer ${w.admin}` },
      });
      expect(res.status).toBe(200);
      return (await res.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    };
    const missing = await report(without.requestId);
    expect(missing).toContain('Obligations local-consent ');
    expect(missing).toContain('Local consent MISSING: the agent reported no operator consent');
    expect(await report(withConsent.requestId)).toContain(`Local consent by ${consent.by} at ${consent.at}`);
    expect(await report(session.requestId)).toContain('Obligations none ');
  });

  it('refuses a malformed consent with 400 and records nothing', async () => {
    const body = configChange();
    await agent('POST', '', body);
    for (const consent of [
      { by: '', at: '2026-11-24T09:01:00Z' },
      { by: 'x'.repeat(201), at: '2026-11-24T09:01:00Z' },
      { by: 'Nurse', at: 'yesterday' },
      { by: 'Nurse' },
      { by: 'Nurse', at: '2026-11-24T09:01:00Z', role: 'admin' },
      'yes',
    ]) {
      const res = await agent('POST', `/${body.requestId}/complete`, { outcome: 'succeeded', consent });
      expect([consent, res.status]).toEqual([consent, 400]);
    }
    expect(await completion(body.requestId)).toBeUndefined();
  });

  it('carries the obligation of an attended ask rule on the allow after approval, not while pending', async () => {
    const body = decisionBody({ action: 'software-install', target: { package: 'ct-fw', version: '4.2.1' } });
    const id = await askPending(t.baseUrl, w.ct, body);
    expect((await agent('GET', `/${id}`)).body).not.toHaveProperty('obligations');
    const approved = await api(t.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, {
      token: w.tokens.alice,
      body: {},
    });
    expect(approved.status).toBe(200);
    const answer = await agent('GET', `/${id}`);
    expect(answer.body).toMatchObject({ decision: 'allow', status: 'approved', obligations: ['local-consent'] });
    await agent('POST', `/${id}/complete`, { outcome: 'failed' });
    expect((await completion(id)).details.consentMissing).toBe(true);
  });
});
