import { randomBytes } from 'node:crypto';
import { startTcpProxy } from '../../test/support/tcp-proxy.js';
import { GatehouseAgent } from '../../sdk/src/index.js';
import { runApprover, type Approver } from './approvers.js';
import { checkDrill, makeDue, waitForJobs, type DrillChecks } from './checks.js';
import { DrillLog } from './drill-log.js';
import { drillFigures, type DrillFigures, type FaultTimes } from './figures.js';
import { DrillAgent, runAgent, unattendedRequest, type FleetTiming } from './fleet.js';
import { untilLongPollOpen } from './long-polls.js';
import { KILL_AT, OUTAGE_AT, type DrillOptions } from './options.js';
import { ReadinessWatch } from './readiness.js';
import { Replica, type LaunchReplica } from './replica.js';
import { StaffClient } from './staff-client.js';
import { startWebhookSink } from './webhook-sink.js';
import { freePort } from '../bench-server.js';

export interface DrillSetup {
  /** A fresh, empty (or freshly migrated) PostgreSQL database, reached directly. */
  databaseUrl: string;
  launch: LaunchReplica;
  options: DrillOptions;
  /** Progress lines (the command prints them; the test keeps them for its failure message). */
  say: (line: string) => void;
}

export interface DrillResult {
  checks: DrillChecks;
  figures: DrillFigures;
  auditVerified: { ok: boolean; records: number };
  errors: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ADMIN_PASSWORD = 'ha-drill-chief-password-0123';
const APPROVER_PASSWORD = 'ha-drill-approver-password';
/** How long after the load the agents may still ask again for an unanswered request. */
const GRACE_MS = 30_000;
/**
 * How long the expiries and the notifications may take after that: longer than the outbox's
 * lease, after which another replica sends what the killed one (or one cut from the database
 * mid-send) had claimed.
 */
const JOBS_WAIT_MS = 45_000;
/** The least load between the restart and the outage, and after the outage. */
const STEADY_MS = 2_000;

/**
 * Three replicas on one PostgreSQL, reached through a TCP proxy that can drop every
 * connection (a database outage or a primary switch-over, without touching the machine's
 * PostgreSQL, which other users share). The fleet and the approvers run while one replica is
 * killed with SIGKILL and started again, then while the database is gone for a few seconds.
 */
export async function runDrill(setup: DrillSetup): Promise<DrillResult> {
  const { options, say } = setup;
  const direct = new URL(setup.databaseUrl);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const proxied = new URL(setup.databaseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const sink = await startWebhookSink();
  const env = {
    DATABASE_URL: proxied.toString(),
    GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    POLICIES_DIR: 'policies',
    // The fleet's load is what is tested, not the per-device limit.
    DEVICE_RATE_PER_SECOND: '10000',
    DEVICE_RATE_BURST: '100000',
    WEBHOOK_URL: sink.url,
    WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    NOTIFY_RETRY_BASE_SECONDS: '1',
    METRICS_TOKEN: randomBytes(16).toString('hex'),
  };
  const replicas = await Promise.all(
    ['a', 'b', 'c'].map(async (name) => new Replica(name, await freePort(), setup.launch, env)),
  );
  const urls = replicas.map((r) => r.baseUrl);
  let watch: ReadinessWatch | undefined;
  try {
    say(`starting replicas ${urls.join(', ')} on one database (through a TCP proxy on port ${proxy.port})`);
    // Together: on a new database one migrates while the others wait for its lock.
    await Promise.all(replicas.map((r) => r.start()));

    const log = new DrillLog();
    const staff = new StaffClient(urls);
    const admin = (await staff.expect(200, 'POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    })) as { accessToken: string };
    const approvers: Approver[] = [];
    for (let i = 0; i < options.approvers; i++) {
      const username = `drill-approver-${i}`;
      await staff.expect(201, 'POST', '/api/v1/users', {
        token: admin.accessToken,
        body: { username, password: APPROVER_PASSWORD, email: `${username}@hosp.test`, groups: ['Biomed-Approvers'] },
      });
      const login = await staff.expect(200, 'POST', '/api/v1/auth/login', {
        body: { username, password: APPROVER_PASSWORD },
      });
      approvers.push({ username, token: login.accessToken as string, index: i, of: options.approvers });
    }
    const { token } = (await staff.expect(201, 'POST', '/api/v1/enrollment-tokens', {
      token: admin.accessToken,
      body: { expiresInHours: 1, maxUses: options.agents },
    })) as { token: string };
    const agents: DrillAgent[] = [];
    for (let i = 0; i < options.agents; i++) {
      // Each device's list starts at another replica: the fleet spreads over the three.
      const mine = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
      const { enrollment } = await GatehouseAgent.enroll({
        urls: mine,
        enrollmentToken: token,
        device: { deviceId: `drill-ct-${i}`, model: 'SOMATOM X.cite', site: 'Main campus' },
      });
      agents.push(new DrillAgent(enrollment.deviceId, enrollment.credential, mine, log));
    }

    let stopped = false;
    let giveUpAt = Number.POSITIVE_INFINITY;
    const timing: FleetTiming = {
      thinkMs: options.thinkMs,
      waitSeconds: options.waitSeconds,
      stopped: () => stopped,
      giveUpAt: () => giveUpAt,
    };
    const unattended: string[] = [];
    for (let n = 0; n < options.unattended; n++) {
      const answer = await agents[0].ask(unattendedRequest(n), timing);
      if (answer?.decision !== 'pending') throw new Error(`an unattended request was answered ${answer?.status}`);
      unattended.push(answer.requestId);
    }

    say(`load: ${options.agents} agents, ${options.approvers} approvers for ${options.loadMs / 1000} s`);
    watch = new ReadinessWatch(urls);
    const started = Date.now();
    const fleet = Promise.all(agents.map((a) => runAgent(a, timing)));
    let approving = true;
    const approverLoops = Promise.all(
      approvers.map((a) => runApprover(staff, a, new Set(unattended), log, options.approveAfterMs, () => !approving)),
    );

    await sleep(KILL_AT * options.loadMs);
    // The left requests fall due as the replica dies: the expiry job may be the one killed.
    await makeDue(setup.databaseUrl, unattended);
    const polling = await untilLongPollOpen(urls[0], env.METRICS_TOKEN, 10_000);
    const killAt = Date.now();
    await replicas[0].kill9();
    say(
      `replica ${replicas[0].name} killed with SIGKILL with ${polling} agents long polling on it; ` +
        `${unattended.length} requests now due to expire`,
    );
    await sleep(options.downMs);
    const restartAt = Date.now();
    await replicas[0].start();
    const restartReadyAt =
      watch.readyAfter(replicas[0].baseUrl, restartAt) ?? (await readyAt(watch, urls[0], restartAt));
    say(`replica ${replicas[0].name} started again, ready after ${restartReadyAt - restartAt} ms`);

    // After the restart (slow on a busy machine), with load between the two faults.
    await sleep(Math.max(STEADY_MS, started + OUTAGE_AT * options.loadMs - Date.now()));
    const outageStart = Date.now();
    await proxy.stop();
    say(`database outage: every connection dropped and refused for ${options.outageMs / 1000} s`);
    await sleep(options.outageMs);
    await proxy.start();
    const outageEnd = Date.now();
    say('database back');

    await sleep(Math.max(STEADY_MS, started + options.loadMs - Date.now()));
    stopped = true;
    giveUpAt = Date.now() + GRACE_MS;
    say(`load stopped after ${log.decisions.length} decisions; waiting for the requests still pending`);
    await fleet;
    approving = false;
    await approverLoops;
    say('waiting for the expiries and the notifications');
    await waitForJobs(setup.databaseUrl, unattended, JOBS_WAIT_MS);
    await Promise.all(urls.map((url) => readyAt(watch!, url, outageEnd)));
    const times: FaultTimes = {
      killedUrl: urls[0],
      killAt,
      restartAt,
      restartReadyAt,
      outageStart,
      outageEnd,
      outageReadiness: urls.map((url) => ({
        url,
        wentUnready: watch!.wentUnready(url, outageStart, outageEnd),
        readyAt: watch!.readyAfter(url, outageEnd),
      })),
    };

    say('checking the database, the audit chain and the notifications');
    const verify = await staff.call('GET', '/api/v1/audit/verify?full=true', { token: admin.accessToken });
    return {
      checks: await checkDrill(setup.databaseUrl, log, unattended, sink.deliveries),
      figures: drillFigures(log, times),
      auditVerified: { ok: verify.status === 200 && verify.body?.ok === true, records: verify.body?.records ?? 0 },
      errors: log.errors,
    };
  } finally {
    await watch?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy.close();
    await sink.close();
  }
}

/** When `url` was first ready at or after `since`, waiting up to a minute for it. */
async function readyAt(watch: ReadinessWatch, url: string, since: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const at = watch.readyAfter(url, since);
    if (at !== undefined) return at;
    await sleep(100);
  }
  throw new Error(`${url} was not ready again within a minute after the fault`);
}
