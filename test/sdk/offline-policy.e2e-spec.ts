import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GatehouseAgent, OfflinePolicyRefused, verifyOfflinePolicy } from '../../sdk/src/index.js';
import type { OfflinePolicy, PublicKeys } from '../../sdk/src/index.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { offlinePolicyDir } from '../support/offline-policies.js';
import { randomOfflineRequest } from '../support/offline-requests.js';

// Tuesday 09:00 in Paris: inside logs-offline's window.
const START = new Date('2026-11-24T08:00:00Z');
const HOUR = 3_600_000;

describe('agent SDK offline: signature and validity checked, same answers as the server, uploads', () => {
  const clock = new TestClock(START);
  let dir: string;
  let t: TestApp;
  let admin: string;
  let agent: GatehouseAgent;
  let policy: OfflinePolicy;
  let keys: PublicKeys;

  beforeAll(async () => {
    dir = offlinePolicyDir();
    t = await startTestApp({
      clock,
      env: { POLICIES_DIR: dir, OFFLINE_POLICY_HOURS: '6', DEVICE_RATE_BURST: '10000' },
    });
    admin = await login(t.baseUrl);
    const token = await api(t.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: admin,
      body: { expiresInHours: 1, maxUses: 1 },
    });
    ({ agent } = await GatehouseAgent.enroll({
      urls: [t.baseUrl],
      enrollmentToken: token.body.token,
      device: { deviceId: 'ct-sdk-off', model: 'SOMATOM X.cite', site: 'Main campus' },
    }));
    policy = (await agent.refreshOfflinePolicy(START.getTime())).policy;
    keys = (await api(t.baseUrl, 'GET', '/api/v1/audit/public-key')).body;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("accepts the appliance's signed policy and refuses one with any changed byte", () => {
    const now = START.getTime();
    expect(verifyOfflinePolicy(policy, keys, now).policy.version).toBe(policy.version);
    const text = JSON.stringify(policy);
    const changed: OfflinePolicy[] = [
      { ...policy, validUntil: new Date(Date.parse(policy.validUntil) + HOUR).toISOString() },
      { ...policy, deviceId: 'ct-other' },
      JSON.parse(text.replace('/var/log/**', '/var/**')) as OfflinePolicy, // a rule widened
      { ...policy, signature: flipFirstByte(policy.signature) },
    ];
    expect(JSON.stringify(changed[2])).not.toBe(text);
    for (const p of changed) expect(() => verifyOfflinePolicy(p, keys, now)).toThrow(OfflinePolicyRefused);
    expect(() => verifyOfflinePolicy({ ...policy, keyId: 'unknown' }, keys, now)).toThrow(/not one of/);
  });

  it('refuses an expired policy, and a verified one allows nothing once past its validity', () => {
    const validUntil = Date.parse(policy.validUntil);
    expect(() => verifyOfflinePolicy(policy, keys, validUntil)).toThrow(/expired/);
    const verified = verifyOfflinePolicy(policy, keys, validUntil - 60_000);
    const logs = { action: 'log-upload', remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical' } };
    expect(verified.can(logs, null, START.getTime())).toBe(true);
    expect(verified.can(logs, null, validUntil)).toBe(false);
  });

  it('denies everything offline without a verified policy', () => {
    const fresh = new GatehouseAgent({ urls: [t.baseUrl], deviceId: 'x', credential: 'x' });
    const record = fresh.decideOffline({ action: 'log-upload', remoteUser: { id: 'a', enterprise: 'acme-medical' } });
    expect(record.decision).toBe('deny');
  });

  it('falls back to the offline policy when no Gatehouse URL answers (a kept policy, verified again)', async () => {
    const down = new GatehouseAgent({
      urls: ['http://127.0.0.1:1'],
      deviceId: 'ct-sdk-off',
      credential: 'x',
      attempts: 1,
    });
    expect(() => down.adoptOfflinePolicy({ ...policy, deviceId: 'ct-other' }, keys, START.getTime())).toThrow(
      OfflinePolicyRefused,
    );
    down.adoptOfflinePolicy(policy, keys, START.getTime());
    const acme = { id: 'jdoe@acme.example', enterprise: 'acme-medical' };
    // By its clock (START) the kept policy allows the logs; the session is not an offline rule.
    expect(down.decideOffline({ action: 'log-upload', remoteUser: acme }, START.getTime()).decision).toBe('allow');
    // decideOrOffline decides at the machine's clock: the offline path is what this checks.
    const session = await down.decideOrOffline({ action: 'remote-session', remoteUser: acme });
    expect(session).toMatchObject({ offline: { decision: 'deny', policyVersion: policy.version } });
    expect(down.pendingOfflineDecisions).toHaveLength(2);
  });

  it('decides offline as the server decides, for random requests, and uploads them unflagged', async () => {
    const request = randomOfflineRequest();
    let allowed = 0;
    let latest = START.getTime();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Any minute of the two weeks from the first issue (nights, weekends, and office hours).
        const now = START.getTime() + r.minutes * 60_000;
        latest = Math.max(latest, now);
        clock.set(new Date(now));
        await agent.refreshOfflinePolicy(now);
        await agent.heartbeat({ inUse: r.inUse });
        const remoteUser = { id: 'jdoe@acme.example', enterprise: r.enterprise, groups: r.groups };
        const req = { action: r.action, remoteUser, ...(r.path === undefined ? {} : { target: { path: r.path } }) };
        const server = await agent.decide(req);
        const offline = agent.decideOffline(req, now);
        expect([r, offline.decision]).toEqual([r, server.decision]);
        if (offline.decision === 'allow') allowed++;
      }),
      { numRuns: 120 },
    );
    expect(allowed).toBeGreaterThan(10); // the property saw allows, not only denies

    clock.set(new Date(latest + 60_000));
    const uploaded = agent.pendingOfflineDecisions.length;
    expect(await agent.uploadOfflineDecisions()).toBe(uploaded);
    expect(agent.pendingOfflineDecisions).toHaveLength(0);
    const audit = async (outcome: string) =>
      (
        await api(t.baseUrl, 'GET', `/api/v1/audit?eventType=decision.offline&outcome=${outcome}&limit=500`, {
          token: await login(t.baseUrl),
        })
      ).body.items as unknown[];
    expect(await audit('flagged')).toEqual([]);
    expect((await audit('allowed')).length).toBe(allowed);
    clock.set(START);
  });
});

function flipFirstByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] ^= 0x01;
  return bytes.toString('base64');
}
