import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { offlineAbility } from '../../src/policies/engine/offline-policy.js';
import { REQUEST, requestSubject } from '../../src/policies/engine/rule-conditions.js';
import { canonicalize } from '../../src/signing/canonical-json.js';
import { enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { OFFLINE_RULES, offlinePolicyDir } from '../support/offline-policies.js';
import { randomOfflineRequest } from '../support/offline-requests.js';

// Tuesday 09:00 in Paris: inside logs-offline's window.
const START = new Date('2026-11-24T08:00:00Z');
const HOUR = 3_600_000;

describe('offline policy (GET /api/v1/agent/policy, POST /api/v1/agent/offline-decisions)', () => {
  const clock = new TestClock(START);
  let dir: string;
  let t: TestApp;
  let admin: string;
  let ct: string;
  let injector: string;
  const policyOf = (token: string) => api(t.baseUrl, 'GET', '/api/v1/agent/policy', { token });
  const upload = (token: string, decisions: unknown) =>
    api(t.baseUrl, 'POST', '/api/v1/agent/offline-decisions', { token, body: { decisions } });
  const audit = async (query: string) =>
    (await api(t.baseUrl, 'GET', `/api/v1/audit?${query}`, { token: await login(t.baseUrl) })).body.items;

  beforeAll(async () => {
    dir = offlinePolicyDir();
    t = await startTestApp({
      clock,
      env: { POLICIES_DIR: dir, OFFLINE_POLICY_HOURS: '6', DEVICE_RATE_BURST: '10000' },
    });
    admin = await login(t.baseUrl);
    ct = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-off-1', model: 'SOMATOM X.cite', site: 'Main campus' });
    injector = await enrollDevice(t.baseUrl, admin, { deviceId: 'inj-off-1', model: 'MEDRAD Stellant' });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives a device its offline rules only, signed with the appliance's key, valid OFFLINE_POLICY_HOURS", async () => {
    const res = await policyOf(ct);
    expect(res.status).toBe(200);
    const { signature, ...unsigned } = res.body;
    expect(Object.keys(res.body).sort()).toEqual(
      ['deviceId', 'issuedAt', 'keyId', 'rules', 'signature', 'validUntil', 'version'].sort(),
    );
    expect(unsigned).toMatchObject({ deviceId: 'ct-off-1', issuedAt: START.toISOString() });
    expect(Date.parse(unsigned.validUntil) - Date.parse(unsigned.issuedAt)).toBe(6 * HOUR);
    const health = await api(t.baseUrl, 'GET', '/health/ready');
    expect(unsigned.version).toBe(health.body.checks.policyVersion);
    const ids = offlineAbility(unsigned.rules)
      .rules.map((r) => r.reason)
      .sort();
    // Not the injectors' rule, nor any rule without offline: true.
    expect(ids).toEqual(['downloads-offline', 'logs-offline', 'restarts-idle-offline']);
    expect((await policyOf(injector)).body.rules).toHaveLength(2); // its own and the one for every device

    const key = await api(t.baseUrl, 'GET', '/api/v1/audit/public-key');
    expect(unsigned.keyId).toBe(key.body.keyId);
    const publicKey = createPublicKey(key.body.publicKey);
    const text = Buffer.from(canonicalize(unsigned), 'utf8');
    expect(verify(null, text, publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    // Any changed byte of what was signed fails: a later validity, a rule widened, a byte flipped.
    const later = { ...unsigned, validUntil: new Date(Date.parse(unsigned.validUntil) + HOUR).toISOString() };
    expect(verify(null, Buffer.from(canonicalize(later)), publicKey, Buffer.from(signature, 'base64'))).toBe(false);
    for (const at of [0, Math.floor(text.length / 2), text.length - 1]) {
      const flipped = Buffer.from(text);
      flipped[at] ^= 0x01;
      expect(verify(null, flipped, publicKey, Buffer.from(signature, 'base64'))).toBe(false);
    }
  });

  it('agrees with the server: the offline ability allows exactly what decide allows, for random requests', async () => {
    const ability = offlineAbility((await policyOf(ct)).body.rules);
    const request = randomOfflineRequest();
    let allowed = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const now = START.getTime() - 9 * HOUR + r.minutes * 60_000;
        clock.set(new Date(now));
        const state = { inUse: r.inUse };
        expect((await api(t.baseUrl, 'POST', '/api/v1/agent/heartbeat', { token: ct, body: { state } })).status).toBe(
          200,
        );
        const remoteUser = { id: 'jdoe@acme.example', enterprise: r.enterprise, groups: r.groups };
        const target = r.path === undefined ? undefined : { path: r.path };
        const server = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', {
          token: ct,
          body: { requestId: randomUUID(), action: r.action, remoteUser, target },
        });
        expect(server.status).toBe(200);
        // What an agent evaluates (README, "Offline policy"): the request, its own state, its clock.
        const subject = requestSubject({
          remoteUser,
          target,
          device: { groups: new Set(), state, stateReportedAt: now },
          now,
          stateMaxAgeMs: 0,
        });
        const offline = ability.can(r.action, subject as never);
        expect([r, offline]).toEqual([r, server.body.decision === 'allow']);
        if (offline) allowed++;
      }),
      { numRuns: 150 },
    );
    expect(allowed).toBeGreaterThan(10); // the property saw allows, not only denies
    clock.set(START);
  });

  describe('uploads', () => {
    let version: string;
    let issuedAt: number;
    const decision = (over: Record<string, unknown> = {}) => ({
      requestId: randomUUID(),
      action: 'log-upload',
      remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical' },
      decidedAt: new Date(issuedAt + HOUR).toISOString(),
      policyVersion: version,
      decision: 'allow',
      ...over,
    });
    beforeAll(async () => {
      clock.set(START);
      const policy = await policyOf(ct);
      version = policy.body.version;
      issuedAt = Date.parse(policy.body.issuedAt);
      clock.set(new Date(issuedAt + 7 * HOUR)); // back online seven hours later (the policy expired at 6)
    });

    it('audits each once as decision.offline: what the policy allowed as allowed, the rest flagged', async () => {
      const ok = decision();
      const refused = decision({ decision: 'deny', remoteUser: { id: 'x@globex.example', enterprise: 'globex' } });
      const notAllowed = decision({ remoteUser: { id: 'x@globex.example', enterprise: 'globex' } });
      const onlineOnly = decision({ action: 'remote-session' });
      const unknownVersion = decision({ policyVersion: 'f'.repeat(64) });
      const future = decision({ decidedAt: new Date(issuedAt + 8 * HOUR).toISOString() });
      const expired = decision({ decidedAt: new Date(issuedAt + 6 * HOUR + 60_000).toISOString() });
      const beforeIssue = decision({ decidedAt: new Date(issuedAt - 60_000).toISOString() });
      const all = [ok, refused, notAllowed, onlineOnly, unknownVersion, future, expired, beforeIssue];
      const res = await upload(ct, all);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: all.length });

      const recordOf = async (d: { requestId: string }) => {
        const items = await audit(`requestId=${d.requestId}`);
        expect(items).toHaveLength(1);
        return items[0];
      };
      expect(await recordOf(ok)).toMatchObject({
        eventType: 'decision.offline',
        actorType: 'device',
        deviceId: 'ct-off-1',
        action: 'log-upload',
        remoteUser: 'jdoe@acme.example',
        outcome: 'allowed',
        ruleIds: ['logs-offline'],
        policyVersion: version,
        details: { decision: 'allow', decidedAt: ok.decidedAt, flagged: false },
      });
      expect(await recordOf(refused)).toMatchObject({ outcome: 'denied', details: { flagged: false } });
      const flags: [object, RegExp][] = [
        [notAllowed, /did not allow/],
        [onlineOnly, /did not allow/],
        [unknownVersion, /never given to this device/],
        [future, /in the future/],
        [expired, /outside the offline policy's validity/],
        [beforeIssue, /outside the offline policy's validity/],
      ];
      for (const [d, reason] of flags) {
        expect(await recordOf(d as { requestId: string })).toMatchObject({
          outcome: 'flagged',
          details: { flagged: true, flagReason: expect.stringMatching(reason) },
        });
      }
      // Flagged ones are found by the audit search, and each has a story.
      const flagged = await audit('eventType=decision.offline&outcome=flagged&limit=100');
      expect(flagged.map((r: { requestId: string }) => r.requestId).sort()).toEqual(
        flags.map(([d]) => (d as { requestId: string }).requestId).sort(),
      );
      const story = await api(t.baseUrl, 'GET', `/api/v1/audit/requests/${notAllowed.requestId}`, {
        token: await login(t.baseUrl),
      });
      expect(story.status).toBe(200);
      expect(story.body.events).toMatchObject([{ eventType: 'decision.offline', step: 'asked', outcome: 'flagged' }]);
    });

    it('is idempotent by request id: a repeat adds nothing and counts as not accepted', async () => {
      const a = decision();
      const b = decision();
      expect((await upload(ct, [a, a])).body).toEqual({ accepted: 1 });
      expect((await upload(ct, [a, b])).body).toEqual({ accepted: 1 });
      const again = await Promise.all([upload(ct, [a, b]), upload(ct, [b, a])]);
      expect(again.map((r) => r.body)).toEqual([{ accepted: 0 }, { accepted: 0 }]);
      expect(await audit(`requestId=${a.requestId}`)).toHaveLength(1);
      expect(await audit(`requestId=${b.requestId}`)).toHaveLength(1);
    });

    it('checks against the version the device held, after the policy set changed', async () => {
      const file = join(dir, 'rules', 'offline.yaml');
      // logs-offline is no longer offline in the new set.
      writeFileSync(file, OFFLINE_RULES.replace(/(- id: logs-offline[\s\S]*?)\n {4}offline: true\n/, '$1\n'));
      const reload = await api(t.baseUrl, 'POST', '/api/v1/policies/reload', { token: await login(t.baseUrl) });
      expect(reload.status).toBe(200);
      expect(reload.body.version).not.toBe(version);
      const held = decision();
      const underNew = decision({ policyVersion: reload.body.version });
      expect((await upload(ct, [held, underNew])).body).toEqual({ accepted: 2 });
      expect((await audit(`requestId=${held.requestId}`))[0]).toMatchObject({
        outcome: 'allowed',
        ruleIds: ['logs-offline'],
      });
      // Never fetched by this device: flagged.
      expect((await audit(`requestId=${underNew.requestId}`))[0].details.flagReason).toMatch(/never given/);
      const fresh = await policyOf(ct);
      expect(fresh.body.version).toBe(reload.body.version);
      expect(offlineAbility(fresh.body.rules).rulesFor('log-upload', REQUEST)).toHaveLength(0);
      writeFileSync(file, OFFLINE_RULES);
    });

    it('refuses more than 500 decisions, and bad shapes, with 400 and records nothing', async () => {
      const many = Array.from({ length: 501 }, () => decision());
      const tooMany = await upload(ct, many);
      expect(tooMany.status).toBe(400);
      expect(JSON.stringify(tooMany.body.error)).toMatch(/at most 500/);
      expect(await audit(`requestId=${many[0].requestId}`)).toHaveLength(0);
      expect((await upload(ct, many.slice(0, 500))).body).toEqual({ accepted: 500 });

      const bad: unknown[] = [
        'not a list',
        [{ ...decision(), decision: 'maybe' }],
        [{ ...decision(), decidedAt: 'yesterday' }],
        [{ ...decision(), requestId: 'not-a-uuid' }],
        [{ ...decision(), extra: true }],
        [{ ...decision(), remoteUser: {} }],
        [{ ...decision(), policyVersion: '' }],
        [{ ...decision(), deviceState: { inUse: { nested: true } } }],
      ];
      for (const decisions of bad) {
        const res = await upload(ct, decisions);
        expect([decisions, res.status, res.body.error?.code]).toEqual([decisions, 400, 'invalid_request']);
      }
      const missing = { ...decision() } as Record<string, unknown>;
      delete missing.decidedAt;
      expect((await upload(ct, [missing])).status).toBe(400);
      // Over the route's 1 MiB body limit: 413.
      const huge = await api(t.baseUrl, 'POST', '/api/v1/agent/offline-decisions', {
        token: ct,
        rawBody: JSON.stringify({ decisions: [], pad: 'x'.repeat(1100 * 1024) }),
      });
      expect(huge.status).toBe(413);
    });

    it('takes the device state the agent decided with: restart allowed only when it was idle', async () => {
      const idle = decision({ action: 'restart', deviceState: { inUse: false } });
      const busy = decision({ action: 'restart', deviceState: { inUse: true } });
      const unknown = decision({ action: 'restart' });
      expect((await upload(ct, [idle, busy, unknown])).body).toEqual({ accepted: 3 });
      expect((await audit(`requestId=${idle.requestId}`))[0].outcome).toBe('allowed');
      expect((await audit(`requestId=${busy.requestId}`))[0].outcome).toBe('flagged');
      expect((await audit(`requestId=${unknown.requestId}`))[0].outcome).toBe('flagged');
    });
  });

  it('needs a device credential', async () => {
    expect((await api(t.baseUrl, 'GET', '/api/v1/agent/policy')).status).toBe(401);
    expect((await api(t.baseUrl, 'GET', '/api/v1/agent/policy', { token: admin })).status).toBe(401);
  });
});
