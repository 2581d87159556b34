/**
 * npm run bench:memory — the resident memory of a running Gatehouse (issue 15, item 4): the
 * embedded default (PGlite) under 300 MB idle and under 400 MB with 10,000 devices and 100,000
 * audit records; on PostgreSQL under 250 MB.
 *
 * For each database, the compiled Gatehouse (dist/src/main.js) as its own process:
 * 1. on a new data folder (or a new PostgreSQL database): started, ready, idle for --settle s;
 * 2. four devices enrolled through the API, the server stopped, and the database seeded as
 *    bench:console seeds it: SQL copies them into --devices devices and appends --records
 *    chained audit records (bench/audit-bulk.ts), then ANALYZE (the embedded folder is opened
 *    with PGlite in this process while the server is stopped: PGlite serves one process);
 * 3. started again on that data, ready, idle;
 * 4. after --decisions decisions asked through the agent API by --concurrency devices at
 *    once (each ask from another of the seeded devices), idle again.
 * At each step: the server's VmRSS (resident now) and VmHWM (its peak) from /proc/<pid>/status,
 * and the JS heap and external memory (PGlite's WebAssembly memory is external) from /metrics.
 *
 * Options: --devices=N (10000), --records=N (100000), --decisions=N (2000), --concurrency=N (8),
 * --settle=S (5), --postgres=on|off (on), --embedded=on|off (on), BENCH_DATABASE_URL (an admin
 * connection). EMBEDDED_* settings and NODE_OPTIONS in the environment are passed to the server, to
compare them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { appendBulkRecords } from './audit-bulk.js';
import {
  BENCH_ADMIN_PASSWORD,
  adminQuery,
  call,
  createBenchDatabase,
  ensure,
  freePort,
  sleep,
  startGatehouse,
  waitReady,
  type BenchDatabase,
  type ServerChild,
} from './bench-server.js';
import { fmtInt, fmtMs, numberOption, percentile, runBench, Samples, stringOption, table } from './bench-util.js';
import { copyTemplateDevices, enrollTemplateDevices, TEMPLATE_DEVICES } from './template-devices.js';

const DEVICES = numberOption('devices', 'BENCH_DEVICES', 10_000);
const RECORDS = numberOption('records', 'BENCH_RECORDS', 100_000);
const DECISIONS = numberOption('decisions', 'BENCH_DECISIONS', 2000);
const CONCURRENCY = numberOption('concurrency', 'BENCH_CONCURRENCY', 8);
const SETTLE_S = numberOption('settle', 'BENCH_SETTLE_SECONDS', 5);
const POSTGRES = stringOption('postgres', 'BENCH_POSTGRES', 'on');
const EMBEDDED = stringOption('embedded', 'BENCH_EMBEDDED', 'on');
const METRICS_TOKEN = 'bench-memory-metrics-token-0123456789';
const MB = 1024 * 1024;
const START_TIMEOUT_MS = 300_000;

const TARGETS = {
  embeddedIdle: 300,
  embeddedLoaded: 400,
  postgres: 250,
};

/** The four device kinds the copies cycle through (the policy files' device groups). */
interface Measure {
  step: string;
  rssMb: number;
  hwmMb: number;
  heapMb: number;
  externalMb: number;
}

interface Run {
  kind: 'embedded' | 'postgres';
  steps: Measure[];
  startSeconds: number[];
  decisionsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Settings passed through to the server: the embedded database's memory, to compare. */
function passedSettings(): Record<string, string> {
  const env: Record<string, string> = { METRICS_TOKEN };
  for (const [name, value] of Object.entries(process.env)) {
    if ((name.startsWith('EMBEDDED_') || name === 'NODE_OPTIONS') && value !== undefined) env[name] = value;
  }
  return env;
}

/** VmRSS and VmHWM of a process, in MB (Linux /proc). */
function residentMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function measure(step: string, base: string, server: ServerChild): Promise<Measure> {
  await sleep(SETTLE_S * 1000);
  const res = await ensure('metrics', call(base, 'GET', '/metrics', { token: METRICS_TOKEN }));
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(String(res.body))?.[1] ?? NaN) / MB;
  const { rss, hwm } = residentMb(server.child.pid!);
  return {
    step,
    rssMb: rss,
    hwmMb: hwm,
    heapMb: metric('nodejs_heap_size_total_bytes'),
    externalMb: metric('nodejs_external_memory_bytes'),
  };
}

/** Starts the server and waits until it is ready: the seconds it took. */
async function start(database: BenchDatabase, port: number): Promise<{ server: ServerChild; seconds: number }> {
  const t0 = performance.now();
  const server = startGatehouse(database, port, undefined, passedSettings());
  try {
    // A new embedded folder (initdb, then every migration) takes a minute or more on two busy cores.
    await waitReady(`http://127.0.0.1:${port}`, server, START_TIMEOUT_MS);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { server, seconds: (performance.now() - t0) / 1000 };
}

async function adminToken(base: string): Promise<string> {
  const login = call(base, 'POST', '/api/v1/auth/login', {
    body: { username: 'admin', password: BENCH_ADMIN_PASSWORD },
  });
  return (await ensure('admin login', login)).body.accessToken as string;
}

type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/** DEVICES in all (copies of the templates: template-devices.ts) and RECORDS chained audit records. */
async function seed(query: Query): Promise<void> {
  await copyTemplateDevices(query, DEVICES - TEMPLATE_DEVICES.length);
  await appendBulkRecords((sql, params) => query(sql, params), RECORDS, new Date());
  await query('ANALYZE');
}

/** Seeds the stopped server's database: PGlite on the data folder, or a PostgreSQL connection. */
async function seedStopped(database: BenchDatabase): Promise<void> {
  if (typeof database === 'string') {
    const db = new pg.Client({ connectionString: database });
    await db.connect();
    try {
      await seed((sql, params) => db.query(sql, params));
    } finally {
      await db.end();
    }
    return;
  }
  const db = await PGlite.create({ dataDir: join(database.dataDir, 'pgdata') });
  try {
    await seed((sql, params) => db.query(sql, params));
  } finally {
    await db.close();
  }
}

/** DECISIONS asks, CONCURRENCY at a time, each from another seeded (not revoked) device. */
async function decisionWorkload(base: string): Promise<{ perSecond: number; p50: number; p99: number }> {
  const samples = new Samples();
  let next = 0;
  const seeded = DEVICES - TEMPLATE_DEVICES.length;
  const ask = async () => {
    for (let n = next++; n < DECISIONS; n = next++) {
      let i = 1 + ((n * 7919) % seeded);
      if (i % 50 === 0) i = i === seeded ? 1 : i + 1; // every 50th device is revoked
      const t = performance.now();
      await ensure(
        'ask',
        call(base, 'POST', '/api/v1/agent/decisions', {
          token: `bench-credential-${i}`,
          body: {
            requestId: crypto.randomUUID(),
            action: n % 2 === 0 ? 'remote-session' : 'file-upload',
            remoteUser: { id: `user${n % 50}@acme.example`, enterprise: 'acme-medical', groups: ['tier2'] },
            target: { path: `/opt/acme/log-${n}.bin` },
            context: { ticket: `INC-${n}`, reason: 'Memory benchmark' },
          },
        }),
      );
      samples.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, ask));
  const seconds = (performance.now() - t0) / 1000;
  const sorted = samples.sorted();
  return { perSecond: DECISIONS / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function runOn(kind: 'embedded' | 'postgres'): Promise<Run> {
  const dataDir = kind === 'embedded' ? mkdtempSync(join(tmpdir(), 'gatehouse-bench-memory-')) : undefined;
  const dbName = `gatehouse_bench_memory_${process.pid}`;
  const database: BenchDatabase = dataDir ? { dataDir } : await createBenchDatabase(dbName);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const steps: Measure[] = [];
  const startSeconds: number[] = [];
  let server: ServerChild | undefined;
  try {
    let started = await start(database, port);
    server = started.server;
    startSeconds.push(started.seconds);
    steps.push(await measure(kind === 'embedded' ? 'idle, new data folder' : 'idle, new database', base, server));
    await enrollTemplateDevices(base, await adminToken(base));
    await server.stop();

    const t0 = performance.now();
    await seedStopped(database);
    console.log(
      `${kind}: seeded ${fmtInt(DEVICES)} devices and ${fmtInt(RECORDS)} audit records in ` +
        `${fmtMs((performance.now() - t0) / 1000, 1)} s`,
    );

    started = await start(database, port);
    server = started.server;
    startSeconds.push(started.seconds);
    steps.push(await measure(`idle, ${fmtInt(DEVICES)} devices, ${fmtInt(RECORDS)} records`, base, server));
    const work = await decisionWorkload(base);
    steps.push(await measure(`after ${fmtInt(DECISIONS)} decisions`, base, server));
    return { kind, steps, startSeconds, decisionsPerSecond: work.perSecond, p50Ms: work.p50, p99Ms: work.p99 };
  } finally {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    else await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

function targetOf(kind: Run['kind'], stepIndex: number): number {
  if (kind === 'postgres') return TARGETS.postgres;
  return stepIndex === 0 ? TARGETS.embeddedIdle : TARGETS.embeddedLoaded;
}

async function main(): Promise<number> {
  const settings = Object.entries(passedSettings())
    .filter(([name]) => name !== 'METRICS_TOKEN')
    .map(([name, value]) => `${name}=${value}`);
  console.log(
    `bench:memory — ${fmtInt(DEVICES)} devices, ${fmtInt(RECORDS)} audit records, ${fmtInt(DECISIONS)} decisions ` +
      `(${CONCURRENCY} at a time); measured ${SETTLE_S} s after each step` +
      (settings.length ? `; ${settings.join(' ')}` : '; default settings') +
      '\n',
  );
  const runs: Run[] = [];
  if (EMBEDDED === 'on') runs.push(await runOn('embedded'));
  if (POSTGRES === 'on') runs.push(await runOn('postgres'));

  const rows = [['database, step', 'RSS MB', 'peak MB', 'JS heap MB', 'external MB', 'target', '']];
  let missed = 0;
  for (const run of runs) {
    run.steps.forEach((s, i) => {
      const target = targetOf(run.kind, i);
      const met = s.rssMb < target;
      if (!met) missed++;
      rows.push([
        `${run.kind}, ${s.step}`,
        fmtMs(s.rssMb, 0),
        fmtMs(s.hwmMb, 0),
        fmtMs(s.heapMb, 0),
        fmtMs(s.externalMb, 0),
        `< ${target} MB`,
        met ? 'met' : 'NOT met',
      ]);
    });
  }
  console.log('\n' + table(rows));
  console.log(
    '(RSS: VmRSS, resident now; peak: VmHWM, the most since the process started; JS heap: V8 heap size; external: ' +
      "memory outside V8's heap that JS objects hold, PGlite's WebAssembly memory among it)\n",
  );
  const speed = [['database', 'start s (new, seeded)', 'decisions/s', 'p50 ms', 'p99 ms']];
  for (const run of runs) {
    speed.push([
      run.kind,
      run.startSeconds.map((s) => fmtMs(s, 1)).join(', '),
      fmtInt(run.decisionsPerSecond),
      fmtMs(run.p50Ms),
      fmtMs(run.p99Ms),
    ]);
  }
  console.log(table(speed));
  console.log(
    `(load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}: the speeds vary with the machine's load; the memory figures much less)`,
  );
  console.log(missed === 0 ? '\nEvery memory target met.' : `\n${missed} memory target(s) NOT met.`);
  return 0;
}

runBench(main);
