/**
 * npm run bench:approvals — the approvers' side under load (issue 4), in one run:
 *
 *   1. the queue's first page (GET /api/v1/approvals, 50 per page) with 10,000 open requests, p50/p99;
 *   2. from an approval on replica A to the agent long-polling on replica B, p50/p99 (LISTEN/NOTIFY);
 *   3. the decision endpoint's latency on one process, alone and with 1,000 agents long-polling it.
 *
 * Two compiled Gatehouse processes (dist/src/main.js) share one PostgreSQL database, with the
 * example policy set. Options: --open=N (open requests, default 10000), --polls=N (default 1000),
 * --rounds=N (approval round trips, default 100), --agents=N (agents asking for decisions in a closed
 * loop, default 4), BENCH_DATABASE_URL (an admin connection).
 * Targets: first page p99 < 50 ms; approval → agent p99 < 300 ms; decision p99 ≤ 20 ms with the polls.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  adminQuery,
  BENCH_ADMIN_PASSWORD as ADMIN_PASSWORD,
  call,
  createBenchDatabase,
  enrollDevices,
  ensure,
  freePort,
  ServerChild,
  staffToken,
  startGatehouse,
  waitReady,
} from './bench-server.js';
import { fmtInt, fmtMs, numberOption, percentile, runBench, Samples, table } from './bench-util.js';

const APPROVER_PASSWORD = 'bench-decider-password-0123';
const OPEN = numberOption('open', 'BENCH_OPEN', 10_000);
const POLLS = numberOption('polls', 'BENCH_POLLS', 1000);
const ROUNDS = numberOption('rounds', 'BENCH_ROUNDS', 100);
const LOAD_AGENTS = numberOption('agents', 'BENCH_AGENTS', 4);
const DEVICES = 100;
const DECISIONS = '/api/v1/agent/decisions';

/** An upload into /opt on a CT scanner: acme-file-transfers-ask, one approval of Biomed-Approvers. */
const askBody = (path = `/opt/acme/${randomUUID()}.bin`) => ({
  requestId: randomUUID(),
  action: 'file-upload',
  remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
  target: { path },
});
/** A log upload: allowed by acme-log-uploads at any time (the decision endpoint's common case). */
const allowBody = () => ({
  requestId: randomUUID(),
  action: 'log-upload',
  remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
  target: { path: '/var/log/acme/system.log' },
});

/** Runs `fn` with at most `width` calls in flight. */
async function inParallel<T>(items: T[], width: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

const summary = (s: Samples) => {
  const sorted = s.sorted();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
};

/** Decision latency from `width` agents in a closed loop for `seconds`. */
async function decisionLoad(base: string, credentials: string[], seconds: number, width = LOAD_AGENTS) {
  const samples = new Samples();
  const until = performance.now() + seconds * 1000;
  let failures = 0;
  await Promise.all(
    Array.from({ length: width }, async (_, w) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const res = await call(base, 'POST', DECISIONS, {
          token: credentials[w % credentials.length],
          body: allowBody(),
        });
        samples.push(performance.now() - t0);
        if (res.status !== 200 || res.body.decision !== 'allow') failures++;
      }
    }),
  );
  return { ...summary(samples), count: samples.length, rps: samples.length / seconds, failures };
}

async function main(): Promise<void> {
  console.log(
    `bench:approvals — ${fmtInt(OPEN)} open requests, ${fmtInt(POLLS)} long polls, ${ROUNDS} approval round trips`,
  );
  const dbName = `gatehouse_bench_appr_${process.pid}`;
  const url = await createBenchDatabase(dbName);
  const [portA, portB] = [await freePort(), await freePort()];
  const a = startGatehouse(url, portA);
  const baseA = `http://127.0.0.1:${portA}`;
  const baseB = `http://127.0.0.1:${portB}`;
  let b: ServerChild | undefined;
  try {
    await waitReady(baseA, a); // A migrates first; B then finds the schema in place
    b = startGatehouse(url, portB);
    await waitReady(baseB, b);
    const admin = (
      await ensure(
        'admin login',
        call(baseA, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } }),
      )
    ).body.accessToken as string;
    const approverA = await staffToken(baseA, admin, {
      username: 'approver',
      password: APPROVER_PASSWORD,
      groups: ['Biomed-Approvers'],
    });
    const credentials = await enrollDevices(
      baseA,
      admin,
      Array.from({ length: DEVICES }, (_, i) => ({ deviceId: `bench-ct-${i}`, model: 'SOMATOM X.cite' })),
    );

    // 1. The queue with OPEN pending requests.
    const t0 = performance.now();
    /** Open requests and the credential of the device that asked (a device sees only its own). */
    const open: { id: string; device: string }[] = [];
    await inParallel(Array.from({ length: OPEN }), 32, async (_, i) => {
      const body = askBody();
      const res = await ensure('ask', call(baseA, 'POST', DECISIONS, { token: credentials[i % DEVICES], body }));
      if (res.body.status !== 'pending') throw new Error(`expected pending, got ${JSON.stringify(res.body)}`);
      open.push({ id: body.requestId, device: credentials[i % DEVICES] });
    });
    console.log(
      `\n${fmtInt(OPEN)} pending requests created through the agent API in ${fmtMs((performance.now() - t0) / 1000, 1)} s`,
    );
    const pages: [string, string][] = [
      ['first page, newest first', '?limit=50'],
      ['first page, by expiry', '?limit=50&sort=expiresAt&order=asc'],
      ['first page, one device group', '?limit=50&deviceGroup=ct-scanners'],
      ['second page (cursor)', ''],
    ];
    const first = await ensure('queue', call(baseA, 'GET', '/api/v1/approvals?limit=50', { token: approverA }));
    pages[3][1] = `?limit=50&cursor=${first.body.nextCursor as string}`;
    const queueRows: string[][] = [['queue (200 calls each, one at a time)', 'p50 ms', 'p99 ms', 'max ms']];
    let queueP99 = 0;
    for (const [label, query] of pages) {
      const s = new Samples();
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        const res = await call(baseA, 'GET', `/api/v1/approvals${query}`, { token: approverA });
        s.push(performance.now() - t);
        if (res.status !== 200 || (res.body.items as unknown[]).length !== 50)
          throw new Error(`queue ${label}: ${res.status}`);
      }
      const r = summary(s);
      if (label.startsWith('first page, newest')) queueP99 = r.p99;
      queueRows.push([label, fmtMs(r.p50), fmtMs(r.p99), fmtMs(r.max)]);
    }
    console.log(table(queueRows));

    // 2. Approval on A → long-polling agent on B.
    const fromCall = new Samples();
    const fromAnswer = new Samples();
    for (let i = 0; i < ROUNDS; i++) {
      const { id, device } = open.pop()!;
      const poll = call(baseB, 'GET', `${DECISIONS}/${id}?wait=30`, { token: device });
      await new Promise((r) => setTimeout(r, 30)); // the poll is waiting on B
      const start = performance.now();
      const approved = await call(baseA, 'POST', `/api/v1/approvals/${id}/approve`, { token: approverA, body: {} });
      const answered = performance.now();
      const res = await poll;
      const end = performance.now();
      if (approved.status !== 200 || res.body.status !== 'approved') {
        throw new Error(`round ${i}: approve ${approved.status}, poll ${JSON.stringify(res.body)}`);
      }
      fromCall.push(end - start);
      fromAnswer.push(end - answered);
    }
    const rc = summary(fromCall);
    const ra = summary(fromAnswer);
    console.log(
      `\n${table([
        [`approval on A → agent's long poll on B (${ROUNDS} rounds)`, 'p50 ms', 'p99 ms', 'max ms'],
        ['from the approve call', fmtMs(rc.p50), fmtMs(rc.p99), fmtMs(rc.max)],
        ['from the approve answer', fmtMs(ra.p50), fmtMs(ra.p99), fmtMs(ra.max)],
      ])}`,
    );

    // 3. Decisions on B, alone and with POLLS agents long-polling B.
    const alone = await decisionLoad(baseB, credentials, 5);
    const controller = new AbortController();
    let pollsAnswered = 0;
    const polling = open.slice(0, POLLS).map(({ id, device }) =>
      fetch(`${baseB}${DECISIONS}/${id}?wait=60`, {
        headers: { authorization: `Bearer ${device}` },
        signal: controller.signal,
      })
        .then(async (r) => {
          const text = await r.text();
          pollsAnswered++;
          if (pollsAnswered === 1) console.log(`  first early poll answer: HTTP ${r.status} ${text.slice(0, 200)}`);
        })
        .catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, 2000)); // all polls are in and waiting
    const withPolls = await decisionLoad(baseB, credentials, 5);
    const early = pollsAnswered;
    controller.abort();
    await Promise.all(polling);
    console.log(
      `\n${table([
        [
          `POST /agent/decisions on B, ${LOAD_AGENTS} agents in a closed loop, 5 s`,
          'req/s',
          'p50 ms',
          'p99 ms',
          'failures',
        ],
        ['alone', fmtInt(alone.rps), fmtMs(alone.p50), fmtMs(alone.p99), String(alone.failures)],
        [
          `with ${fmtInt(POLLS)} long polls open`,
          fmtInt(withPolls.rps),
          fmtMs(withPolls.p50),
          fmtMs(withPolls.p99),
          String(withPolls.failures),
        ],
      ])}`,
    );
    if (early > 0) console.log(`  (${early} long polls answered before the end: they should all have waited)`);

    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(
      `\nTargets: queue first page p99 ${fmtMs(queueP99)} ms < 50 ms: ${verdict(queueP99 < 50)}; ` +
        `approval → agent p99 ${fmtMs(rc.p99)} ms < 300 ms: ${verdict(rc.p99 < 300)}; ` +
        `decision p99 with ${fmtInt(POLLS)} polls ${fmtMs(withPolls.p99)} ms ≤ 20 ms: ${verdict(withPolls.p99 <= 20)}`,
    );
    if (alone.failures + withPolls.failures > 0) process.exitCode = 1;
  } finally {
    await b?.stop();
    await a.stop();
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  }
}

runBench(main);
