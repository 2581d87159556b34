import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ApprovalJobs } from '../../src/approvals/approval-jobs.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { APPROVER_PASSWORD, createApprovalWorld, installBody, moreApprovers } from '../support/approvers.js';

/**
 * A model-based test (fast-check `commands`) of one CT install request (2 approvals of
 * Biomed-Approvers or Radiology-Leads, time-out 60 min, grants up to 240 min) against the
 * real application over HTTP, with the clock moved by the test. After every command the
 * request as the approvers and the agent see it must match the model: terminal states
 * never change, approvals never exceed what the rule requires, nothing is allowed after
 * expiry, repeats are allowed exactly while a grant is live.
 */
type Status = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';
const APPROVERS = ['alice', 'bob', 'racer0', 'racer1'] as const;
const OUTSIDERS = ['mallory', 'carol'] as const; // own request; outside the device scope
type Who = (typeof APPROVERS)[number] | (typeof OUTSIDERS)[number];

interface Model {
  status: Status;
  votes: Map<Who, number | null>;
  createdAt: number;
  grant: { until: number; ended: boolean } | null;
}

interface Real {
  app: TestApp;
  clock: TestClock;
  tokens: Record<Who, string>;
  ct: string;
  body: ReturnType<typeof installBody>;
  grantId: string | null;
}

const TIMEOUT_MS = 60 * 60_000;
const now = (r: Real) => r.clock.now().getTime();
const effective = (m: Model, r: Real): Status =>
  m.status === 'pending' && now(r) >= m.createdAt + TIMEOUT_MS ? 'expired' : m.status;

async function check(m: Model, r: Real): Promise<void> {
  const view = await api(r.app.baseUrl, 'GET', `/api/v1/approvals/${r.body.requestId}`, { token: r.tokens.alice });
  const status = effective(m, r);
  expect(view.body.status).toBe(status);
  const approvals = [...m.votes.keys()].length - (m.status === 'rejected' ? 1 : 0);
  expect(view.body.approval.given).toBe(approvals);
  expect(view.body.approval.given).toBeLessThanOrEqual(2);
  const agent = await api(r.app.baseUrl, 'GET', `/api/v1/agent/decisions/${r.body.requestId}`, { token: r.ct });
  expect(agent.body.decision).toBe(status === 'approved' ? 'allow' : status === 'pending' ? 'pending' : 'deny');
}

class Vote implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly who: Who,
    readonly kind: 'approve' | 'reject',
    readonly grantMinutes: number | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const body = this.grantMinutes === undefined ? {} : { grantMinutes: this.grantMinutes };
    const res = await api(r.app.baseUrl, 'POST', `/api/v1/approvals/${r.body.requestId}/${this.kind}`, {
      token: r.tokens[this.who],
      body: this.kind === 'approve' ? body : {},
    });
    // The same order of checks as the service: rights, state, grant limit, counted once.
    let expected = 200;
    if ((OUTSIDERS as readonly string[]).includes(this.who)) expected = 403;
    else if (effective(m, r) !== 'pending') expected = 409;
    else if (this.kind === 'approve' && (this.grantMinutes ?? 0) > 240) expected = 400;
    else if (m.votes.has(this.who)) expected = 409;
    expect([this.toString(), res.status]).toEqual([this.toString(), expected]);
    if (expected !== 200) return;
    if (this.kind === 'reject') {
      m.votes.set(this.who, null);
      m.status = 'rejected';
      return;
    }
    m.votes.set(this.who, this.grantMinutes ?? null);
    if (m.votes.size >= 2) {
      m.status = 'approved';
      const minutes = [...m.votes.values()];
      if (minutes.every((x) => x !== null)) {
        m.grant = { until: now(r) + Math.min(...minutes) * 60_000, ended: false };
        r.grantId = res.body.grant.id;
      }
    }
    await check(m, r);
  }
  toString = () => `${this.kind}(${this.who}${this.grantMinutes !== undefined ? `, ${this.grantMinutes} min` : ''})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly minutes: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    r.clock.advance(this.minutes * 60_000);
    await check(m, r);
  }
  toString = () => `advance(${this.minutes} min)`;
}

class RunJobs implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.app.app.get(ApprovalJobs).runOnce();
    if (effective(m, r) === 'expired') m.status = 'expired';
    await check(m, r);
  }
  toString = () => 'runJobs';
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const res = await api(r.app.baseUrl, 'POST', `/api/v1/agent/decisions/${r.body.requestId}/cancel`, { token: r.ct });
    const expected = effective(m, r) === 'pending' ? 200 : 409;
    expect(res.status).toBe(expected);
    if (expected === 200) m.status = 'cancelled';
    await check(m, r);
  }
  toString = () => 'cancel';
}

class Repeat implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const res = await api(r.app.baseUrl, 'POST', '/api/v1/agent/decisions', {
      token: r.ct,
      body: { ...r.body, requestId: crypto.randomUUID() },
    });
    const live = m.grant !== null && !m.grant.ended && now(r) < m.grant.until;
    expect(res.body.status).toBe(live ? 'allowed' : 'pending');
    if (live) expect(Date.parse(res.body.validUntil)).toBeLessThanOrEqual(m.grant!.until);
  }
  toString = () => 'repeat';
}

class EndGrant implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.grant !== null;
  async run(m: Model, r: Real): Promise<void> {
    const res = await api(r.app.baseUrl, 'POST', `/api/v1/grants/${r.grantId}/end`, { token: r.tokens.bob });
    const live = !m.grant!.ended && now(r) < m.grant!.until;
    expect(res.status).toBe(live ? 200 : 409);
    if (live) m.grant!.ended = true;
  }
  toString = () => 'endGrant';
}

const who = fc.constantFrom<Who>(...APPROVERS, ...OUTSIDERS);
const commands = [
  fc
    .tuple(who, fc.option(fc.constantFrom(5, 30, 240, 241), { nil: undefined }))
    .map(([w, g]) => new Vote(w, 'approve', g)),
  who.map((w) => new Vote(w, 'reject', undefined)),
  fc.integer({ min: 1, max: 90 }).map((n) => new Advance(n)),
  fc.constant(new RunJobs()),
  fc.constant(new Cancel()),
  fc.constant(new Repeat()),
  fc.constant(new EndGrant()),
];

describe('approval state machine (model-based, real app)', () => {
  let app: TestApp;
  const clock = new TestClock(new Date('2026-11-23T08:00:00Z'));
  let ct: string;
  let run = 0;

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { SESSION_IDLE_MINUTES: '1440', SESSION_TTL_MINUTES: '10080' } });
    const w = await createApprovalWorld(app.baseUrl);
    await moreApprovers(app.baseUrl, w.admin, 'racer', 'Biomed-Approvers', 2);
    ct = w.ct;
  });
  afterAll(async () => app.close());

  it('keeps its invariants under random approvals, rejections, clock moves, jobs, cancellations and grants', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
        // Fresh sign-ins each run: the clock moves hours per run and sessions would expire.
        const tokens = {} as Record<Who, string>;
        for (const name of [...APPROVERS, ...OUTSIDERS])
          tokens[name] = await login(app.baseUrl, name, APPROVER_PASSWORD);
        const body = installBody(`model-${run++}`); // its own target: grants of other runs do not apply
        const res = await api(app.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body });
        expect(res.body.status).toBe('pending');
        const model: Model = { status: 'pending', votes: new Map(), createdAt: clock.now().getTime(), grant: null };
        await fc.asyncModelRun(() => ({ model, real: { app, clock, tokens, ct, body, grantId: null } }), cmds);
      }),
      { numRuns: 40 },
    );
  }, 240_000);
});
