import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GatehouseAgent, type EndItem } from '../../sdk/src/index.js';
import { createApprovalWorld, type ApprovalWorld } from '../support/approvers.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

/** Monday 11:00 in Paris: inside the office-hours windows of the example policies. */
const MONDAY_MORNING = new Date('2026-11-23T10:00:00Z');

describe('agent SDK against a real Gatehouse: enroll, decide, wait for approval, end, complete', () => {
  const clock = new TestClock(MONDAY_MORNING);
  let app: TestApp;
  let w: ApprovalWorld;
  let agent: GatehouseAgent;
  const ends: EndItem[] = [];
  const auditOf = async (id: string) =>
    (await api(app.baseUrl, 'GET', `/api/v1/audit?requestId=${id}&sort=oldest`, { token: w.admin })).body.items as {
      eventType: string;
      outcome: string;
      details: Record<string, unknown>;
    }[];

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '1440' } });
    w = await createApprovalWorld(app.baseUrl);
    const token = await api(app.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: w.admin,
      body: { expiresInHours: 1, maxUses: 1 },
    });
    const enrolled = await GatehouseAgent.enroll({
      urls: [app.baseUrl],
      enrollmentToken: token.body.token,
      device: { deviceId: 'ct-sdk-1', model: 'SOMATOM X.cite', site: 'Main campus', agentVersion: '1.0.0' },
      onEnd: (end) => void ends.push(end),
    });
    agent = enrolled.agent;
    expect(enrolled.enrollment).toMatchObject({ deviceId: 'ct-sdk-1', pollIntervalSeconds: 30 });
  });
  afterAll(async () => app?.close());

  it('asks with a fresh requestId, long polls while pending, and reads the allow an approver gave', async () => {
    // A file transfer, not a session: a long poll on an allowed live session waits on for its end.
    const upload = {
      action: 'file-upload',
      remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
      target: { path: '/opt/app/patch.bin' },
    };
    const first = await agent.decide(upload);
    const second = await agent.decide(upload);
    expect(first).toMatchObject({ decision: 'pending', policies: ['acme-file-transfers-ask'] });
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.requestId).not.toBe(first.requestId);
    expect(GatehouseAgent.mayAct(first)).toBe(false);

    const waiting = agent.waitForDecision(first.requestId, { waitSeconds: 30, timeoutMs: 50_000 });
    let settled = false;
    void waiting.finally(() => (settled = true));
    const approve = await api(app.baseUrl, 'POST', `/api/v1/approvals/${first.requestId}/approve`, {
      token: w.tokens.alice,
      body: { comment: 'vendor on the phone' },
    });
    expect(approve.status).toBe(200);
    const answer = await waiting;
    expect(settled).toBe(true);
    expect(answer).toMatchObject({ requestId: first.requestId, decision: 'allow', status: 'approved' });
    expect(GatehouseAgent.mayAct(answer)).toBe(true);
    await agent.cancel(second.requestId);
    expect((await agent.status(second.requestId)).status).toBe('cancelled');
  });

  it('stops an access the hospital ended (onEnd, once) and completes it as aborted', async () => {
    const answer = await agent.decide({
      action: 'remote-session',
      remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
    });
    expect(answer.decision).toBe('allow');
    expect((await agent.heartbeat({ inUse: false, mode: 'idle' })).end).toEqual([]);
    const ended = await api(app.baseUrl, 'POST', `/api/v1/access/${answer.requestId}/end`, {
      token: w.tokens.alice,
      body: { reason: 'vendor finished' },
    });
    expect(ended.status).toBe(200);
    const beat = await agent.heartbeat({ inUse: false, mode: 'idle' });
    expect(beat.end).toEqual([{ requestId: answer.requestId, reason: 'Ended by alice: vendor finished' }]);
    expect(ends).toEqual([{ requestId: answer.requestId, reason: 'Ended by alice: vendor finished' }]);
    // heartbeat() returns after the SDK completed the ended request.
    const completed = (await auditOf(answer.requestId)).find((r) => r.eventType === 'decision.completed');
    expect(completed?.details).toMatchObject({ outcome: 'aborted' });
    // Confirmed: the next heartbeat lists nothing, and onEnd is not called again.
    expect((await agent.heartbeat({ inUse: false })).end).toEqual([]);
    expect(ends).toHaveLength(1);
  });

  it('completes an allow with what happened', async () => {
    const answer = await agent.decide({
      requestId: randomUUID(),
      action: 'remote-session',
      remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
    });
    const at = MONDAY_MORNING.toISOString();
    await agent.complete(answer.requestId, { outcome: 'succeeded', startedAt: at, endedAt: at, detail: 'checked' });
    const records = await auditOf(answer.requestId);
    expect(records.map((r) => r.eventType)).toEqual(['decision', 'decision.completed']);
  });
});
