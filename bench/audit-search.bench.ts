/**
 * The auditors' reads over a large trail: a filtered first page of GET /api/v1/audit (newest
 * first, 100 records) per filter, p50/p99 (target p99 < 100 ms over 5 million records), and
 * the export's throughput (target 100,000 records/s) with the process's resident set growth.
 * The records are made by generate_series into a scratch database (bench/audit-bulk.ts), ANALYZEd.
 *
 *   npm run bench:audit [-- --records=5000000 --queries=200]   (after the append bench)
 *
 * Environment: AUDIT_SEARCH_BENCH_RECORDS, AUDIT_SEARCH_BENCH_QUERIES, BENCH_DATABASE_URL
 * (admin URL; default postgres://postgres@127.0.0.1:5432/postgres), AUDIT_SEARCH_BENCH_KEEP=1
 * keeps the database (gatehouse_bench_search_<records>) and reuses it next time.
 */
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { AuditExport } from '../src/audit/audit-export.js';
import { auditSearchSchema } from '../src/audit/audit-search.dto.js';
import { AuditSearch } from '../src/audit/audit-search.service.js';
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
    const rows: string[][] = [['first page (100, newest first)', 'p50', 'p99', 'max']];
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
      rows.push([name, fmtMs(percentile(ms, 50)), fmtMs(percentile(ms, 99)), fmtMs(ms[ms.length - 1])]);
    }
    console.log(
      `\n${fmtInt(RECORDS)} records, ${QUERIES} queries per filter (load average ${loadavg()[0].toFixed(1)})\n${table(rows)}`,
    );

    const rssBefore = process.memoryUsage().rss;
    let maxRss = rssBefore;
    let lines = 0;
    const started = performance.now();
    for await (const chunk of new AuditExport(db.dataSource, new AuditSealer(db.dataSource)).text({
      format: 'jsonl',
    })) {
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines += 1;
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
    const rate = lines / ((performance.now() - started) / 1000);
    const growth = (maxRss - rssBefore) / 2 ** 20;
    console.log(
      `\nExport (jsonl, no client): ${fmtInt(lines)} records at ${fmtInt(rate)} records/s, resident set +${growth.toFixed(0)} MB`,
    );
    console.log(
      `Targets: search p99 < ${TARGET_P99_MS} ms (worst ${fmtMs(worstP99)}), ` +
        `export ${fmtInt(TARGET_EXPORT_RATE)} records/s (${fmtInt(rate)})`,
    );
    return 0;
  } finally {
    await drop();
  }
}

runBench(main);
