import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ApprovalJobs } from '../../src/approvals/approval-jobs.js';
import { askPending, createApprovalWorld, installBody, uploadBody, type ApprovalWorld } from '../support/approvers.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';

describe("a request's story (GET /api/v1/audit/requests/{requestId})", () => {
  let t: TestApp;
  let w: ApprovalWorld;
  const clock = new TestClock(new Date('2026-11-23T10:00:00Z'));
  const story = (id: string, token = w.admin) => api(t.baseUrl, 'GET', `/api/v1/audit/requests/${id}`, { token });
  const agent = (path: string, body: object) =>
    api(t.baseUrl, 'POST', `/api/v1/agent/decisions${path}`, { token: w.ct, body });
  const approve = (person: 'alice' | 'bob', id: string, body: object) =>
    api(t.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token: w.tokens[person], body });

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '1440', SESSION_TTL_MINUTES: '10080' } });
    w = await createApprovalWorld(t.baseUrl);
  });
  afterAll(async () => t?.close());

  it('tells an approved request with two approvers, repeats under its grant and completion, oldest first', async () => {
    const body = installBody('story-fw');
    const id = await askPending(t.baseUrl, w.ct, body);
    clock.advance(60_000);
    expect((await approve('alice', id, { comment: 'Vendor called', grantMinutes: 60 })).status).toBe(200);
    clock.advance(60_000);
    const done = await approve('bob', id, { grantMinutes: 30 });
    expect(done.body.status).toBe('approved');
    const repeats = [randomUUID(), randomUUID()];
    for (const requestId of repeats) {
      clock.advance(60_000);
      expect((await agent('', { ...body, requestId })).body.status).toBe('allowed');
    }
    expect((await agent(`/${repeats[0]}/complete`, { outcome: 'failed' })).status).toBe(200);
    clock.advance(5 * 60_000);
    expect((await agent(`/${id}/complete`, { outcome: 'succeeded', detail: 'Firmware 5.1.2 installed' })).status).toBe(
      200,
    );
    const grantEnd = await api(t.baseUrl, 'POST', `/api/v1/grants/${done.body.grant.id}/end`, { token: w.tokens.bob });
    expect(grantEnd.status).toBe(200);

    const res = await story(id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ requestId: id, status: 'approved' });
    const events = res.body.events as {
      step: string;
      seq: number;
      eventType: string;
      actorId: string;
      requestId: string;
      ruleIds: string[];
      hash: string;
    }[];
    expect(events.map((e) => [e.step, e.actorId])).toEqual([
      ['asked', 'ct-a1'],
      ['vote', 'alice'],
      ['vote', 'bob'],
      ['grant', 'bob'],
      ['repeat', 'ct-a1'],
      ['repeat', 'ct-a1'],
      ['repeat-completed', 'ct-a1'],
      ['completed', 'ct-a1'],
      ['grant-ended', 'bob'],
    ]);
    expect(events[0].ruleIds).toEqual(['acme-ct-installs']);
    expect(events.filter((e) => e.step === 'repeat').map((e) => e.requestId)).toEqual(repeats);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(events.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    // The grant (bob's approval, 10:02) let the work start; it was reported done at 10:09.
    expect(res.body.completion).toEqual({ outcome: 'succeeded', at: clock.now().toISOString(), durationSeconds: 420 });
  });

  it('keeps the whole story of a request that expired', async () => {
    const id = await askPending(t.baseUrl, w.ct, uploadBody('/opt/acme/story.bin'));
    clock.advance(3 * 60 * 60_000); // past its approval timeout
    await t.app.get(ApprovalJobs).runOnce();
    const res = await story(id);
    expect(res.body.status).toBe('expired');
    expect(res.body.events.map((e: { step: string }) => e.step)).toEqual(['asked', 'expired']);
    expect(res.body.completion).toBeNull();
  });

  it('shows an approver the stories of their devices only; anything else is not found', async () => {
    const id = await askPending(t.baseUrl, w.ct, installBody('story-scope'));
    expect((await story(id, w.tokens.alice)).status).toBe(200); // CT approver
    const hidden = [
      story(id, w.tokens.carol), // approver for the lab only
      story(id, w.tokens.dave), // viewer: reads approvals, not stories
      story(randomUUID(), w.tokens.alice),
      story(randomUUID()), // an admin: no such request
    ];
    for (const res of await Promise.all(hidden)) {
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'not_found', message: 'Request not found' });
    }
    const bad = await story('not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });
});
