/**
 * The HTTP part (section 4): the bare server, then the real Gatehouse (dist/src/main.js) on a
 * scratch PostgreSQL database under the same load, the comparison table, and the check that
 * every answer has its decision audit record.
 */
import { randomUUID } from 'node:crypto';
import type { Profiler } from 'node:inspector/promises';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  ADMIN_URL,
  adminQuery,
  BENCH_ADMIN_PASSWORD as ADMIN_PASSWORD,
  call,
  enrollDevices,
  freePort,
  startGatehouse,
  waitReady,
} from '../bench-server.js';
import { fmtInt, fmtMs, table } from '../bench-util.js';
import { startBare } from './bare-server.js';
import { summarizeProfile } from './cpu-profile.js';
import { DECISIONS_PATH, decisionBody, type HttpRun, measure } from './http-load.js';
import {
  CONNECTIONS,
  HTTP_SECONDS,
  HTTP_TARGETS,
  SERVER_PROFILE,
  TARGET_HTTP_P99_MS,
  TARGET_HTTP_RATIO,
  WARMUP_SECONDS,
} from './options.js';
import { holds, meets, summary } from './summary.js';
import { pad } from './world.js';

/** `entryFile`: the bench's entry script, which the bare server's child runs with --serve-bare. */
export async function httpPart(entryFile: string): Promise<boolean> {
  let failed = false;
  console.log(
    `\n4. HTTP: POST ${DECISIONS_PATH} on loopback, autocannon ${CONNECTIONS} connections, ` +
      `${HTTP_SECONDS} s measured after ${WARMUP_SECONDS} s warm-up\n`,
  );
  console.log(
    'Gatehouse: dist/src/main.js in a child process, PostgreSQL (durable audit: each answer after its record ' +
      'commits), example policy set (policies/), LOG_LEVEL=warn. Bare: node:http in a child process, fixed JSON. ' +
      'Not pinned: autocannon, the server and PostgreSQL share the CPUs.',
  );

  // The bare server first, alone on the machine.
  const bare = await startBare(entryFile);
  let bareRun: HttpRun;
  try {
    bareRun = await measure(
      'bare node:http (fixed JSON)',
      `http://127.0.0.1:${bare.port}${DECISIONS_PATH}`,
      ['bare-server-ignores-credentials'],
      bare.server.child.pid,
      () => Promise.resolve([]),
      null,
    );
  } finally {
    await bare.server.stop();
  }
  console.log(`  bare node:http: ${fmtInt(bareRun.rps)} req/s, p99 ${fmtMs(bareRun.p99)} ms`);

  const name = `gatehouse_bench_dec_${process.pid}`;
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  db.on('error', (e) => console.error(`bench database connection failed: ${e.message}`));
  let run: HttpRun | undefined;
  let floor: HttpRun | undefined;
  let audit: { records: number; requests: number; pendingRecorded: number; refusedRecorded: number } | undefined;
  let serverLogLines: number;
  let serverLogTail: string;
  const pending = new Set<string>();
  const profileDir = SERVER_PROFILE === 'on' ? mkdtempSync(join(tmpdir(), 'gatehouse-bench-prof-')) : undefined;
  let serverProfile = '';
  try {
    await db.connect();
    const port = await freePort();
    const server = startGatehouse(dbUrl.toString(), port, profileDir);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitReady(base, server);
      const login = await call(base, 'POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
      });
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
      const staffToken = login.body.accessToken as string;
      // One device per connection.
      const credentials = await enrollDevices(
        base,
        staffToken,
        Array.from({ length: CONNECTIONS }, (_, i) => ({ deviceId: `bench-ct-${pad(i, 3)}`, model: 'SOMATOM X.cite' })),
      );

      // One request by hand first: the answer the load expects.
      const requestId = randomUUID();
      const check = await call(base, 'POST', DECISIONS_PATH, {
        token: credentials[0],
        body: JSON.parse(decisionBody(requestId)),
      });
      if (check.status !== 200 || check.body?.decision !== 'allow') {
        throw new Error(`the first decision was ${check.status} ${JSON.stringify(check.body)}, expected 200 allow`);
      }
      console.log(
        `  Gatehouse ready; ${credentials.length} devices enrolled (SOMATOM X.cite: ct-scanners); first answer: ` +
          `${check.body.decision} by ${(check.body.policies as string[]).join(', ')}`,
      );

      const pgPids = async () =>
        (
          await db.query<{ pid: number }>(
            'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          )
        ).rows.map((r) => r.pid);
      run = await measure(
        'Gatehouse (NestJS + Fastify, PostgreSQL)',
        `${base}${DECISIONS_PATH}`,
        credentials,
        server.child.pid,
        pgPids,
        pending,
      );
      console.log(`  Gatehouse: ${fmtInt(run.rps)} req/s, p99 ${fmtMs(run.p99)} ms`);
      // The same server answering GET /health/live: NestJS, Fastify and Gatehouse's hooks with
      // no decision and no database: how much of the gap to the bare server the framework is.
      floor = await measure(
        'Gatehouse GET /health/live (no decision)',
        `${base}/health/live`,
        credentials,
        server.child.pid,
        () => Promise.resolve([]),
        null,
        'health',
      );
      console.log(`  Gatehouse /health/live: ${fmtInt(floor.rps)} req/s, p99 ${fmtMs(floor.p99)} ms`);
    } finally {
      // Graceful stop: requests still in flight when autocannon stopped finish (and are recorded) first.
      await server.stop();
      serverLogLines = server.lines;
      serverLogTail = server.tail(3);
      if (profileDir) {
        const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
        serverProfile = file
          ? summarizeProfile(
              JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as Profiler.Profile,
              20,
              run?.windowUs,
            )
          : '(no profile written)';
      }
    }
    const one = async (sql: string, params: unknown[] = []) => (await db.query<{ n: number }>(sql, params)).rows[0].n;
    if (run) {
      const ids = (list: Iterable<string>) => [...list];
      const refused = [...run.warm.refused, ...run.measured.refused];
      audit = {
        records: await one(`SELECT count(*)::int AS n FROM audit_records WHERE event_type = 'decision'`),
        requests: await one('SELECT count(*)::int AS n FROM decision_requests'),
        pendingRecorded: await one(
          `SELECT count(*)::int AS n FROM audit_records WHERE event_type = 'decision' AND request_id = ANY($1::text[])`,
          [ids(pending)],
        ),
        refusedRecorded: await one(
          `SELECT count(*)::int AS n FROM audit_records WHERE event_type = 'decision' AND request_id = ANY($1::text[])`,
          [refused],
        ),
      };
    }
  } finally {
    await db.end().catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    // The profile stays for a closer look (Chrome DevTools, Performance panel: load profile).
    if (profileDir) console.log(`\n(Gatehouse CPU profile kept in ${profileDir})`);
  }
  if (!run || !audit) throw new Error('the Gatehouse load did not complete');

  const runs = floor ? [bareRun, run, floor] : [bareRun, run];
  const ratio = (x: number, b: number) => `${(x / b).toFixed(2)}x`;
  const pct = (x: number) => (Number.isFinite(x) ? `${fmtInt(x * 100)}%` : 'n/a');
  console.log('');
  console.log(
    table([
      [
        'server',
        'req/s',
        'p50 ms',
        'p99 ms',
        'req/s vs bare',
        'p99 vs bare',
        '200 allow',
        'other 2xx',
        'non-2xx',
        '5xx',
        'errors',
        'server CPU',
        'client CPU',
        'pg CPU',
        'machine CPU',
        'server CPU µs/answer',
      ],
      ...runs.map((r) => [
        r.label,
        fmtInt(r.rps),
        fmtMs(r.p50),
        fmtMs(r.p99),
        ratio(r.rps, bareRun.rps),
        ratio(r.p99, bareRun.p99),
        fmtInt(r.measured.allow),
        fmtInt(r.measured.otherDecision),
        fmtInt(r.measured.non2xx),
        fmtInt(r.measured.status5xx),
        fmtInt(r.errors),
        pct(r.serverCpu),
        pct(r.clientCpu),
        r === bareRun || r === floor ? '' : pct(r.pgCpu),
        pct(r.machineCpu),
        fmtInt((r.serverCpu * 1e6) / r.rps),
      ]),
    ]),
  );
  console.log(
    `\n(${availableParallelism()} CPUs; req/s = autocannon mean of per-second counts; latency percentiles from every ` +
      '2xx response of the measured run; CPU 100% = one core, machine CPU = all cores; pg CPU = the backends of the ' +
      'scratch database; µs/answer = server CPU time per answer; /health/live is measured after the decisions, on ' +
      'the same server)',
  );
  for (const r of runs) {
    if (r.measured.firstProblem || r.warm.firstProblem) {
      console.log(`  ${r.label}: first unexpected answer: ${r.warm.firstProblem || r.measured.firstProblem}`);
    }
  }
  if (serverProfile) {
    console.log(
      `\nGatehouse CPU profile of the measured load (--server-profile=on; the profiler slows it):\n\n${serverProfile}`,
    );
  }
  if (serverLogLines > 0)
    console.log(`  Gatehouse logged ${serverLogLines} lines at warn or above, last:\n${serverLogTail}`);

  // Every answer recorded: records = 2xx answers + requests in flight when autocannon stopped that were recorded.
  const tallies = [run.warm, run.measured];
  // 1: the first request, made by hand.
  const answered2xx = 1 + tallies.reduce((n, t) => n + t.allow + t.otherDecision, 0);
  const non2xx = tallies.reduce((n, t) => n + t.non2xx, 0);
  const all5xx = tallies.reduce((n, t) => n + t.status5xx, 0);
  const notAllow = tallies.reduce((n, t) => n + t.otherDecision, 0);
  const auditOk =
    audit.records === answered2xx + audit.pendingRecorded &&
    audit.refusedRecorded === 0 &&
    audit.requests === audit.records;
  console.log(
    `\nAudit trail (counted after Gatehouse stopped): ${fmtInt(audit.records)} decision records, ` +
      `${fmtInt(audit.requests)} decision requests; ${fmtInt(answered2xx)} answers 200 (warm-up, measured and the ` +
      `first one by hand) + ${fmtInt(audit.pendingRecorded)} recorded of the ${fmtInt(pending.size)} requests still in ` +
      `flight when autocannon stopped = ${fmtInt(answered2xx + audit.pendingRecorded)}; ${fmtInt(non2xx)} non-2xx ` +
      `answers, ${audit.refusedRecorded} of them with a record: ${auditOk ? 'every answer recorded, OK' : 'MISMATCH'}`,
  );
  // A 5xx, or a 2xx that is not an allow, is wrong; 4xx and connection errors are counted and shown.
  const answersOk = all5xx === 0 && notAllow === 0;
  if (!auditOk || !answersOk) failed = true;

  const rpsRatio = run.rps / bareRun.rps;
  summary.push({
    target: HTTP_TARGETS.ratio,
    measured: `${fmtInt(run.rps)} vs ${fmtInt(bareRun.rps)} req/s = ${rpsRatio.toFixed(2)}x`,
    verdict: meets(rpsRatio >= TARGET_HTTP_RATIO),
  });
  summary.push({
    target: HTTP_TARGETS.p99,
    measured: `${fmtMs(run.p99)} ms (bare ${fmtMs(bareRun.p99)} ms)`,
    verdict: meets(run.p99 < TARGET_HTTP_P99_MS),
  });
  summary.push({
    target: HTTP_TARGETS.answers,
    measured: `${fmtInt(answered2xx - notAllow)} allow, ${notAllow} other decisions, ${non2xx} non-2xx (${all5xx} 5xx), ${run.errors} errors`,
    verdict: holds(answersOk),
  });
  summary.push({
    target: HTTP_TARGETS.audit,
    measured: `${fmtInt(audit.records)} records = ${fmtInt(answered2xx)} answered + ${fmtInt(audit.pendingRecorded)} in flight at stop`,
    verdict: holds(auditOk),
  });
  return failed;
}
