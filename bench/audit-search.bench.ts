/**
 * The auditors' reads over a large trail: a filtered first page of GET /api/v1/audit (newest
 * first, 100 records) per filter, p50/p99 (target p99 < 100 ms over 5 million records) and the
 * plan PostgreSQL chose for it; the export's throughput (target 100,000 records/s), JSON Lines
 * and CSV by COPY and, as the reference in the same run, JSON Lines by the batch path (the
 * embedded database's), each with the process's resident set growth and where the CPU went
 * (this process, and the database's backends: read from /proc, so only with a local PostgreSQL).
 * The records are made by generate_series into a scratch database (bench/audit-bulk.ts), ANALYZEd.
 *
 *   npm run bench:audit [-- --records=5000000 --queries=200]   (after the append bench)
 *
 * Environment: AUDIT_SEARCH_BENCH_RECORDS, AUDIT_SEARCH_BENCH_QUERIES, BENCH_DATABASE_URL
 * (admin URL; default postgres://postgres@127.0.0.1:5432/postgres), AUDIT_SEARCH_BENCH_KEEP=1
 * keeps the database (gatehouse_bench_search_<records>) and reuses it next time.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { AuditExport } from '../src/audit/audit-export.js';
import { auditSearchSchema } from '../src/audit/audit-search.dto.js';
import { AuditSearch } from '../src/audit/audit-search.service.js';
import { auditConditions, whereClause } from '../src/audit/audit-filters.js';
import { AuditSealer } from '../src/audit/sealer/audit-sealer.js';
import { loadConfig } from '../src/config/config.schema.js';
import { Database } from '../src/database/database.js';
import type { PolicyService } from '../src/policies/policy.service.js';
import { appendBulkRecords } from './audit-bulk.js';
import { fmtInt, fmtMs, numberOption, percentile, runBench, table } from './bench-util.js';

const RECORDS = numberOption('records', 'AUDIT_SEARCH_BENCH_RECORDS', 5_000_000);
const QUERIES = numberOption('queries', 'AUDIT_SEARCH_BENCH_QUERIES', 200);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const KEEP = process.env.AUDIT_SEARCH_BENCH_KEEP === '1';
const TARGET_P99_MS = 100;
const TARGET_EXPORT_RATE = 100_000;

const pick = (n: number) => Math.floor(Math.random() * n);
/** Each case: the query string of a random first page. Values as bench/audit-bulk.ts makes them. */
const CASES: [string, () => Record<string, string>][] = [
  ['no filter', () => ({})],
  ['deviceId', () => ({ deviceId: `dev-${pick(200)}` })],
  ['remoteUser', () => ({ remoteUser: `user${pick(50)}@vendor.example` })],
  ['enterprise', () => ({ enterprise: `enterprise-${pick(5)}` })],
  ['actor', () => ({ actor: `dev-${pick(200)}` })],
  ['outcome=denied', () => ({ outcome: 'denied' })],
  ['ruleId', () => ({ ruleId: `rule-${pick(20)}` })],
  ['eventType', () => ({ eventType: 'bulk.decision' })],
  ['requestId (none match)', () => ({ requestId: `req-${pick(1e9)}` })],
  ['ticket (none match)', () => ({ ticket: `INC-${pick(1e6)}` })],
  ['deviceId + outcome=denied', () => ({ deviceId: `dev-${pick(200) * 10}`, outcome: 'denied' })],
  ['remoteUser, oldest first', () => ({ remoteUser: `user${pick(50)}@vendor.example`, sort: 'oldest' })],
];

/** CPU seconds (utime + stime, at Linux's 100 ticks a second) a local process has used; 0 when unreadable. */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * The CPU the database's backends use while `run` runs: sampled every 100 ms (the export's
 * COPYs come and go on pooled connections), summed per backend from its first sample to its last.
 */
async function withBackendCpu<T>(db: Database, run: () => Promise<T>): Promise<{ result: T; pgSeconds: number }> {
  const seen = new Map<number, [number, number]>();
  const sample = async () => {
    const rows = await db.dataSource.query<{ pid: number }[]>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    for (const { pid } of rows) {
      const now = cpuSecondsOf(pid);
      const first = seen.get(pid)?.[0] ?? now;
      seen.set(pid, [first, now]);
    }
  };
  await sample();
  const timer = setInterval(() => void sample().catch(() => undefined), 100);
  try {
    const result = await run();
    return { result, pgSeconds: [...seen.values()].reduce((sum, [a, b]) => sum + b - a, 0) };
  } finally {
    clearInterval(timer);
  }
}

/** The node under the LIMIT of the search's plan for these filters: which index reads the page. */
async function planOf(db: Database, filters: Record<string, string>): Promise<string> {
  const c = auditConditions(auditSearchSchema.parse(filters));
  const dir = filters.sort === 'oldest' ? 'ASC' : 'DESC';
  const [{ 'QUERY PLAN': plan }] = await db.dataSource.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
    `EXPLAIN (FORMAT JSON) SELECT * FROM audit_records ${whereClause(c)} ORDER BY seq ${dir} LIMIT 101`,
    c.params,
  );
  const scan = plan[0].Plan.Plans?.[0] ?? plan[0].Plan;
  return `${scan['Node Type']}${scan['Index Name'] ? ` ${scan['Index Name']}` : ''}`;
}
interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

async function adminQuery(sql: string): Promise<{ rows: { n?: string }[] }> {
  const client = new pg.Client(ADMIN_URL);
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function openDatabase(): Promise<{ db: Database; drop: () => Promise<void> }> {
  const name = `gatehouse_bench_search_${RECORDS}`;
  const exists = (await adminQuery(`SELECT 1 AS n FROM pg_database WHERE datname = '${name}'`)).rows.length > 0;
  if (exists && !KEEP) await adminQuery(`DROP DATABASE ${name} WITH (FORCE)`);
  if (!exists || !KEEP) await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await Database.open(loadConfig({ DATABASE_URL: url.toString() }), { migrate: true });
  const drop = async () => {
    await db.close();
    if (!KEEP) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  const [{ n }] = await db.dataSource.query<{ n: string }[]>('SELECT count(*) AS n FROM audit_records');
  if (Number(n) < RECORDS) {
    const started = performance.now();
    await appendBulkRecords((sql, params) => db.dataSource.query(sql, params), RECORDS - Number(n), new Date());
    await db.dataSource.query('ANALYZE audit_records');
    const seconds = (performance.now() - started) / 1000;
    console.log(`Made ${fmtInt(RECORDS - Number(n))} records in ${seconds.toFixed(0)} s (with their indexes)`);
  }
  return { db, drop };
}

async function main(): Promise<number> {
  const { db, drop } = await openDatabase();
  try {
    // deviceGroup needs the policy's groups; the bench has none loaded (the other filters do not use it).
    const search = new AuditSearch(
      db.dataSource,
      { grouper: null } as unknown as PolicyService,
      new AuditSealer(db.dataSource),
    );
    const rows: string[][] = [['first page (100, newest first)', 'p50', 'p99', 'max', 'plan (under the LIMIT)']];
    let worstP99 = 0;
    for (const [name, values] of CASES) {
      const ms: number[] = [];
      for (let i = 0; i < QUERIES; i++) {
        const q = auditSearchSchema.parse({ ...values(), limit: '100' });
        const started = performance.now();
        await search.search(q);
        ms.push(performance.now() - started);
      }
      ms.sort((a, b) => a - b);
      worstP99 = Math.max(worstP99, percentile(ms, 99));
      const plan = await planOf(db, values());
      rows.push([name, fmtMs(percentile(ms, 50)), fmtMs(percentile(ms, 99)), fmtMs(ms[ms.length - 1]), plan]);
    }
    console.log(
      `\n${fmtInt(RECORDS)} records, ${QUERIES} queries per filter (load average ${loadavg()[0].toFixed(1)})\n${table(rows)}`,
    );

    const exporter = new AuditExport(db, new AuditSealer(db.dataSource));
    const exports: [string, () => AsyncIterable<string | Buffer>][] = [
      ['jsonl, COPY', () => exporter.bytes({ format: 'jsonl' })],
      ['csv, COPY', () => exporter.bytes({ format: 'csv' })],
      ['jsonl, batches (reference)', () => exporter.batchedText({ format: 'jsonl' })],
    ];
    const exportRows: string[][] = [
      ['export (no client)', 'records/s', 'MB/s', 'RSS +MB', 'node CPU µs/rec', 'PG CPU µs/rec', 'load'],
    ];
    let copyRate = Infinity;
    for (const [name, pieces] of exports) {
      const rssBefore = process.memoryUsage().rss;
      let maxRss = rssBefore;
      let lines = 0;
      let bytes = 0;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const { pgSeconds } = await withBackendCpu(db, async () => {
        for await (const piece of pieces()) {
          bytes += piece.length;
          for (let i = piece.indexOf('\n'); i !== -1; i = piece.indexOf('\n', i + 1)) lines += 1;
          maxRss = Math.max(maxRss, process.memoryUsage().rss);
        }
      });
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const rate = lines / seconds;
      if (name.includes('COPY')) copyRate = Math.min(copyRate, rate);
      exportRows.push([
        name,
        fmtInt(rate),
        (bytes / 2 ** 20 / seconds).toFixed(0),
        ((maxRss - rssBefore) / 2 ** 20).toFixed(0),
        ((cpu.user + cpu.system) / lines).toFixed(1),
        ((pgSeconds * 1e6) / lines).toFixed(1),
        loadavg()[0].toFixed(1),
      ]);
    }
    console.log(`\n${fmtInt(RECORDS)} records exported (bytes counted, not written)\n${table(exportRows)}`);
    console.log(
      `Targets: search p99 < ${TARGET_P99_MS} ms (worst ${fmtMs(worstP99)}), ` +
        `export ${fmtInt(TARGET_EXPORT_RATE)} records/s (COPY, slower format: ${fmtInt(copyRate)})`,
    );
    return 0;
  } finally {
    await drop();
  }
}

runBench(main);
