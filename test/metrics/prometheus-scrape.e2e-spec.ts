import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { updateStatus } from '../../src/directory/directory-status.js';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { installBody, uploadBody } from '../support/approvers.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { freePort } from '../support/free-port.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { TestClock } from '../support/test-clock.js';
import { waitFor } from '../support/wait-for.js';

const ALERTS_FILE = resolve('ops/prometheus/gatehouse-alerts.yml');
const DASHBOARD_FILE = resolve('ops/grafana/gatehouse-dashboard.json');
const METRICS_TOKEN = 'metrics-token-for-the-tests-0123456789';
const EFFECT_OF: Record<string, string> = { allowed: 'allow', denied: 'deny', pending: 'ask' };
/** Counted apart: injectors has no device in the workload, mri-scanners is not listed, ct-scaners is a typo. */
const METRICS_DEVICE_GROUPS = 'ct-scanners,ct-north-clinic,injectors,ct-scaners';

// Tuesday 09:00 in Paris: office hours for the example policy set.
const clock = new TestClock(new Date('2026-11-24T08:00:00Z'));

/** Metric names in PromQL expressions: identifiers that are not functions, keywords or label names. */
function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '');
  const withoutGrouping = withoutStrings.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const withoutRanges = withoutGrouping.replace(/\[[^\]]*\]/g, '');
  return [...withoutRanges.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1])
    .filter((name) => !/^(and|or|unless|bool|offset|inf|nan|e)$/i.test(name) && !/^\d/.test(name));
}

describe('GET /metrics scraped by a real Prometheus after a scripted workload', () => {
  let dir: string;
  let t: TestApp;
  let tls: ServerProcess;
  let tlsDb: TestDatabase;
  let prom: PrometheusServer;
  let admin: string;
  let ct: string;
  let certFile: string;
  /** What the workload did, as the agents were answered: `${effect} ${action}` → count. */
  const decided = new Map<string, number>();
  /** The same per listed device group: `${group} ${effect} ${action}` → count. */
  const decidedByGroup = new Map<string, number>();
  /** Each device's credential → its groups among METRICS_DEVICE_GROUPS (policies/device-groups.yaml). */
  const listedGroupsOf = new Map<string, string[]>();
  let listener: string;
  let deviceRefusals = 0;

  const one = async (expr: string) => {
    // The HTTPS process (job gatehouse-tls) is only there for its certificate's expiry.
    const result = (await prom.query(expr)).filter(
      (r) => r.metric.job !== 'gatehouse-tls' || expr.includes('gatehouse-tls'),
    );
    return result.length === 1 ? result[0].value : undefined;
  };
  /** Prometheus scrapes every second: waits for the expression to reach the expected value. */
  const expectQuery = async (expr: string, expected: number) => {
    let last: number | undefined;
    await waitFor(async () => (last = await one(expr)) === expected, `${expr} == ${expected}`).catch(() => {
      throw new Error(`${expr}: expected ${expected}, Prometheus says ${last}`);
    });
  };
  const decide = async (body: object, device = ct) => {
    const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: device, body });
    expect(res.status).toBe(200);
    const action = (body as { action: string }).action;
    const key = `${EFFECT_OF[res.body.status as string]} ${action.startsWith('x-') ? 'other' : action}`;
    decided.set(key, (decided.get(key) ?? 0) + 1);
    const groups = listedGroupsOf.get(device)!;
    for (const group of groups.length > 0 ? groups : ['other']) {
      decidedByGroup.set(`${group} ${key}`, (decidedByGroup.get(`${group} ${key}`) ?? 0) + 1);
    }
    return res.body as { requestId: string; status: string };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-prom-'));
    const cert = selfSignedCertificate(dir, { subject: '/CN=localhost', altNames: 'IP:127.0.0.1,DNS:localhost' });
    certFile = cert.certFile;
    // Nothing listens there: the directory and the SIEM receiver fail for real.
    const closed = await freePort();
    const listenPort = await freePort();
    listener = `http://127.0.0.1:${listenPort}`;
    t = await startTestApp({
      clock,
      env: {
        METRICS_TOKEN,
        METRICS_LISTEN: `127.0.0.1:${listenPort}`,
        METRICS_DEVICE_GROUPS,
        DEVICE_RATE_BURST: '20',
        DEVICE_RATE_PER_SECOND: '1',
        LDAP_URL: `ldap://127.0.0.1:${closed}`,
        LDAP_BIND_DN: 'CN=gatehouse,DC=hosp,DC=test',
        LDAP_BIND_PASSWORD: 'not-used-nothing-listens',
        LDAP_BASE_DN: 'DC=hosp,DC=test',
        LDAP_CONNECT_TIMEOUT_MS: '500',
        AUDIT_FORWARD_URLS: `syslog+tcp://127.0.0.1:${closed}?format=json`,
      },
    });
    // HTTPS in a process of its own (two apps in one process share Nest's logger and more).
    tlsDb = await createTestDatabase();
    tls = await startServerProcess({
      ...tlsDb.env,
      METRICS_TOKEN,
      TLS_CERT_FILE: cert.certFile,
      TLS_KEY_FILE: cert.keyFile,
    });
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, METRICS_TOKEN);
    prom = await startPrometheus(
      dir,
      [
        { job: 'gatehouse', target: new URL(t.baseUrl).host, tokenFile },
        { job: 'gatehouse-tls', target: new URL(tls.baseUrl).host, tokenFile, scheme: 'https', caFile: certFile },
      ],
      [ALERTS_FILE],
    );
    admin = await login(t.baseUrl);
    ct = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-a1', model: 'SOMATOM X.cite', site: 'Main campus' });
    listedGroupsOf.set(ct, ['ct-scanners']);
  });
  afterAll(async () => {
    await prom?.stop();
    await t?.close();
    await tls?.stop();
    await tlsDb?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts decisions by effect and action, their latency and the group commits that wrote them', async () => {
    for (let i = 0; i < 3; i++) await decide(decisionBody());
    for (let i = 0; i < 2; i++)
      await decide(decisionBody({ remoteUser: { id: 'x@globex.example', enterprise: 'globex' } }));
    await decide(decisionBody({ action: 'x-acme-diagnostics' }));
    for (let i = 0; i < 2; i++) await decide(installBody(`pkg-${i}`));
    expect([...decided.entries()].sort()).toEqual(
      expect.arrayContaining([
        ['allow remote-session', 3],
        ['deny remote-session', 2],
        ['ask software-install', 2],
      ]),
    );
    const total = [...decided.values()].reduce((a, b) => a + b, 0);
    for (const [key, n] of decided) {
      const [effect, action] = key.split(' ');
      await expectQuery(`gatehouse_decisions_total{effect="${effect}",action="${action}"}`, n);
    }
    await expectQuery('sum(gatehouse_decisions_total{job="gatehouse"})', total);
    await expectQuery('gatehouse_decision_duration_seconds_count', total);
    // Every decision written by exactly one commit: the batch sizes add up to the decisions.
    await expectQuery('gatehouse_decision_commit_batch_size_sum', total);
    expect(await one('gatehouse_decision_commit_duration_seconds_count')).toBeGreaterThan(0);
    expect(await one('gatehouse_audit_write_failures_total')).toBe(0);
  });

  it('counts decisions per device group of METRICS_DEVICE_GROUPS only: in each listed group, else "other"', async () => {
    // In ct-scanners and ct-north-clinic; in mri-scanners, which is not listed.
    const north = await enrollDevice(t.baseUrl, admin, {
      deviceId: 'ct-n1',
      model: 'SOMATOM go',
      site: 'North clinic',
    });
    listedGroupsOf.set(north, ['ct-scanners', 'ct-north-clinic']);
    const mri = await enrollDevice(t.baseUrl, admin, { deviceId: 'mr-1', model: 'MAGNETOM Vida' });
    listedGroupsOf.set(mri, []);
    for (let i = 0; i < 3; i++) await decide(decisionBody(), north);
    // Not an install: a pending request would change the approval queue the tests below read.
    await decide(decisionBody({ remoteUser: { id: 'x@globex.example', enterprise: 'globex' } }), north);
    for (let i = 0; i < 2; i++) await decide(decisionBody(), mri);
    await decide(decisionBody({ action: 'x-acme-diagnostics' }), mri);
    expect(decidedByGroup.get('ct-north-clinic allow remote-session')).toBe(3);
    for (const [key, n] of decidedByGroup) {
      const [group, effect, action] = key.split(' ');
      await expectQuery(
        `gatehouse_decisions_by_device_group_total{device_group="${group}",effect="${effect}",action="${action}"}`,
        n,
      );
    }
    // The typo was said at start.
    expect(t.logs.join('')).toContain('METRICS_DEVICE_GROUPS names ct-scaners, not a device group of policy set');
    // Series for the listed groups with decisions and "other", and no other label value.
    const groups = await prom.query(
      'sum by (device_group) (gatehouse_decisions_by_device_group_total{job="gatehouse"})',
    );
    expect(groups.map((r) => [r.metric.device_group, r.value]).sort()).toEqual(
      ['ct-north-clinic', 'ct-scanners', 'other']
        .map((g) => [g, [...decidedByGroup].filter(([k]) => k.startsWith(`${g} `)).reduce((a, [, n]) => a + n, 0)])
        .sort(),
    );
  });

  it('counts rate-limit refusals as the agents saw them', async () => {
    const flood = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-flood', model: 'SOMATOM X.cite' });
    for (let i = 0; i < 30; i++) {
      const res = await api(t.baseUrl, 'GET', `/api/v1/agent/decisions/00000000-0000-4000-8000-00000000000${i % 10}`, {
        token: flood,
      });
      if (res.status === 429) deviceRefusals++;
    }
    expect(deviceRefusals).toBeGreaterThan(0);
    await expectQuery('gatehouse_rate_limit_refusals_total{job="gatehouse",limit="device"}', deviceRefusals);
    await expectQuery('gatehouse_rate_limit_refusals_total{job="gatehouse",limit="address"}', 0);
  });

  it('shows open long polls and event streams, and the time approvers took to decide', async () => {
    const alice = await api(t.baseUrl, 'POST', '/api/v1/users', {
      token: admin,
      body: { username: 'alice', password: 'approver-password-long-enough', groups: ['Biomed-Approvers'] },
    });
    expect(alice.status).toBe(201);
    const aliceToken = await login(t.baseUrl, 'alice', 'approver-password-long-enough');
    // The console's live queue: an approver's event stream, open until the client leaves.
    const leave = new AbortController();
    const stream = await fetch(`${t.baseUrl}/api/v1/approvals/events`, {
      headers: { authorization: `Bearer ${aliceToken}` },
      signal: leave.signal,
    });
    expect(stream.status).toBe(200);
    await expectQuery('gatehouse_event_streams_open{job="gatehouse"}', 1);
    leave.abort();
    await expectQuery('gatehouse_event_streams_open{job="gatehouse"}', 0);
    const upload = await decide(uploadBody());
    expect(upload.status).toBe('pending');
    const poll = api(t.baseUrl, 'GET', `/api/v1/agent/decisions/${upload.requestId}?wait=50`, { token: ct });
    await expectQuery('gatehouse_long_polls_open{job="gatehouse"}', 1);
    clock.advance(90_000);
    const approved = await api(t.baseUrl, 'POST', `/api/v1/approvals/${upload.requestId}/approve`, {
      token: aliceToken,
      body: {},
    });
    expect(approved.status).toBe(200);
    expect((await poll).body.status).toBe('approved');
    await expectQuery('gatehouse_long_polls_open{job="gatehouse"}', 0);
    await expectQuery('gatehouse_approval_duration_seconds_count', 1);
    await expectQuery('gatehouse_approval_duration_seconds_sum', 90);
  });

  it('reads the approval queue at scrape time: pending requests, the oldest, those about to expire', async () => {
    // The two installs were asked at 09:00 (1 h to answer); now it is 09:51 (90 s were the approval's).
    clock.set(new Date('2026-11-24T08:51:00Z'));
    await expectQuery('gatehouse_pending_requests', 2);
    await expectQuery('gatehouse_pending_oldest_age_seconds', 51 * 60);
    await expectQuery('gatehouse_pending_expiring_soon', 2);
  });

  it('reports the directory sync, SIEM forwarding, the policy set and the audit chain head', async () => {
    // The scheduled sync ran at start against a port where nothing listens: a real failure.
    await expectQuery('gatehouse_directory_last_sync_success{job="gatehouse"}', 0);
    // No DC in this test: an earlier success, stored as a sync that reached one stores it.
    const finishedAt = new Date(clock.now().getTime() - 2 * 3600_000).toISOString();
    await updateStatus(t.database.dataSource, (s) => ({
      ...s,
      lastSuccess: {
        kind: 'full',
        trigger: 'schedule',
        outcome: 'success',
        startedAt: finishedAt,
        finishedAt,
        durationMs: 1,
      },
    }));
    await expectQuery('gatehouse_directory_sync_age_seconds{job="gatehouse"}', 2 * 3600);

    admin = await login(t.baseUrl); // the clock moved past the session's idle time
    const { receivers } = (await api(t.baseUrl, 'GET', '/api/v1/audit/forwarding', { token: admin })).body;
    expect(receivers).toHaveLength(1);
    await waitFor(
      async () => (await one(`gatehouse_forwarding_failing{receiver="${receivers[0].url}"}`)) === 1,
      'the unreachable receiver to read as failing',
    );

    const ready = (await api(t.baseUrl, 'GET', '/health/ready')).body;
    await expectQuery(`gatehouse_policy_info{job="gatehouse",version="${ready.checks.policyVersion}"}`, 1);
    await expectQuery('gatehouse_policy_loaded{job="gatehouse"}', 1);
    await expectQuery('gatehouse_policy_problems{job="gatehouse"}', 0);

    // The workload is over: the head no longer moves, so Prometheus' latest scrape has it.
    const [head] = await t.database.dataSource.query<{ seq: string }[]>('SELECT max(seq) AS seq FROM audit_records');
    await expectQuery('gatehouse_audit_chain_head_seq{job="gatehouse"}', Number(head.seq));
    // Decisions' records wait in the inbox only until the sealer's next round.
    await expectQuery('gatehouse_audit_unsealed_records{job="gatehouse"}', 0);
    await expectQuery('gatehouse_audit_seal_lag_seconds{job="gatehouse"}', 0);
    const [now] = (await api(t.baseUrl, 'GET', '/api/v1/audit/forwarding', { token: admin })).body.receivers;
    expect(now.lag).toBeGreaterThan(0);
    await expectQuery(`gatehouse_forwarding_lag_records{receiver="${now.url}"}`, now.lag);
    await expectQuery(`gatehouse_forwarding_lag_seconds{receiver="${now.url}"}`, now.lagSeconds);
    for (const reader of ['pending', 'audit', 'notifications', 'forwarding', 'directory']) {
      await expectQuery(`gatehouse_state_read_ok{job="gatehouse",reader="${reader}"}`, 1);
    }
  });

  it('has the process and event-loop metrics, and the HTTPS certificate’s expiry', async () => {
    expect(await one('process_resident_memory_bytes{job="gatehouse"}')).toBeGreaterThan(0);
    expect(await one('nodejs_eventloop_lag_p99_seconds{job="gatehouse"}')).toBeGreaterThanOrEqual(0);
    const notAfter = Math.floor(new Date(new X509Certificate(readFileSync(certFile)).validTo).getTime() / 1000);
    await expectQuery('gatehouse_tls_certificate_expiry_timestamp_seconds{job="gatehouse-tls"}', notAfter);
  });

  it('refuses a scrape without the token or with a wrong one (401)', async () => {
    expect((await api(t.baseUrl, 'GET', '/metrics')).status).toBe(401);
    const wrong = await api(t.baseUrl, 'GET', '/metrics', { token: `${METRICS_TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthenticated');
    expect((await api(t.baseUrl, 'GET', '/metrics', { token: METRICS_TOKEN })).status).toBe(200);
  });

  it('asks for METRICS_TOKEN on the METRICS_LISTEN port too, and serves the same metrics there', async () => {
    const scrape = (token?: string) =>
      fetch(`${listener}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    for (const res of [await scrape(), await scrape(`${METRICS_TOKEN}x`)]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    }
    const res = await scrape(METRICS_TOKEN);
    expect(res.status).toBe(200);
    const text = await res.text();
    const total = [...decided.values()].reduce((a, b) => a + b, 0);
    const counted = [...text.matchAll(/^gatehouse_decisions_total\{[^}]*\} (\d+)$/gm)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    expect(counted).toBe(total);
    expect((await fetch(`${listener}/api/v1/audit/verify`)).status).toBe(404);
  });

  it('the alert rules pass promtool and load in Prometheus; the configuration passes promtool', async () => {
    expect(execFileSync('promtool', ['check', 'rules', ALERTS_FILE], { encoding: 'utf8' })).toMatch(/SUCCESS/);
    execFileSync('promtool', ['check', 'config', '--syntax-only', prom.configFile], { stdio: 'pipe' });
    const rules = await prom.get<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>(
      '/api/v1/rules',
    );
    const loaded = rules.groups.flatMap((g) => g.rules);
    const inFile = (parseYaml(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups
      .flatMap((g) => g.rules)
      .map((r) => r.alert);
    expect(loaded.map((r) => r.name).sort()).toEqual([...inFile].sort());
    await waitFor(async () => {
      const now = (await prom.get<typeof rules>('/api/v1/rules')).groups.flatMap((g) => g.rules);
      return now.every((r) => r.health === 'ok');
    }, 'every rule to be evaluated without error');
  });

  it('every metric the dashboard and the alert rules name exists in the real scrape', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => target.expr));
    const alerts = parseYaml(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
    exprs.push(...alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)));
    expect(exprs.length).toBeGreaterThan(30);
    const named = [...new Set(exprs.flatMap(metricNamesIn))].sort();
    expect(named).toContain('gatehouse_decisions_total');
    const scraped = new Set(await prom.metricNames());
    expect(named.filter((name) => !scraped.has(name))).toEqual([]);
  });
});
