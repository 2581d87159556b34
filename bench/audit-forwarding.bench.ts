/**
 * SIEM forwarding throughput: records/s from a trail already in the database to a local
 * syslog receiver over TLS (CEF, octet-counted frames), through the server's own forwarder
 * (batches by seq, the cursor saved as it goes). Target: 20,000 records/s. The receiver
 * (in this process) parses every frame, so its work is counted too.
 *
 *   npm run bench:audit [-- --forward-records=200000]
 *
 * Then part 2 (audit-forwarding-decisions.ts): decisions/s of the real server while its own
 * forwarder catches up a backlog, against the same server without forwarding (issue 13: the drop
 * under 10%). --forward-decisions=off skips it; --forward-rounds=1 --forward-seconds=5 shortens it.
 *
 * Environment: AUDIT_FORWARD_BENCH_RECORDS, BENCH_DATABASE_URL (admin URL; default
 * postgres://postgres@127.0.0.1:5432/postgres). A scratch database is made and dropped.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditService } from '../src/audit/audit.service.js';
import { AuditSealer } from '../src/audit/sealer/audit-sealer.js';
import { ForwardLease } from '../src/audit/forwarding/forward-lease.js';
import { ReceiverForwarder } from '../src/audit/forwarding/receiver-forwarder.js';
import { TransportThread } from '../src/audit/forwarding/transport-thread.js';
import { SystemClock } from '../src/common/clock.js';
import { loadConfig } from '../src/config/config.schema.js';
import { Database } from '../src/database/database.js';
import { appendBulkRecords } from './audit-bulk.js';
import { adminQuery, createBenchDatabase } from './bench-server.js';
import { fmtInt, numberOption, processCpuSeconds, runBench, threadCpuSeconds } from './bench-util.js';
import { countingReceiver } from './syslog-receiver.js';
import { FORWARD_DECISIONS, forwardingUnderDecisions } from './audit-forwarding-decisions.js';

const RECORDS = numberOption('forward-records', 'AUDIT_FORWARD_BENCH_RECORDS', 200_000);
const TARGET_RATE = 20_000;
const DB_NAME = 'gatehouse_bench_forwarding';

/** CPU seconds of the scratch database's PostgreSQL backends (the forwarder's reads). */
async function postgresCpuSeconds(db: Database): Promise<number> {
  const rows = await db.dataSource.query<{ pid: number }[]>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  const cpu = processCpuSeconds('postgres');
  return rows.reduce((n, r) => n + (cpu?.get(r.pid) ?? NaN), 0);
}

/**
 * µs of CPU per record by thread: the main thread (the forwarder's reads and the receiver, which
 * runs in this process), the transport thread (the one with a nice value: parse, format, TLS),
 * and the rest (V8's and libuv's helpers: garbage collection, crypto).
 */
function cpuByThread(
  before: Map<number, { seconds: number }>,
  after: Map<number, { seconds: number; nice: number }>,
  records: number,
): string {
  const used = { main: 0, transport: 0, other: 0 };
  for (const [tid, t] of after) {
    const us = ((t.seconds - (before.get(tid)?.seconds ?? 0)) * 1e6) / records;
    if (tid === process.pid) used.main += us;
    else if (t.nice > 0) used.transport += us;
    else used.other += us;
  }
  return (
    `main thread (reads, receiver) ${used.main.toFixed(1)} µs, transport thread ${used.transport.toFixed(1)} µs, ` +
    `other threads ${used.other.toFixed(1)} µs`
  );
}

async function main(): Promise<number> {
  await forwardingAlone();
  if (FORWARD_DECISIONS !== 'off') await forwardingUnderDecisions();
  return 0;
}

async function forwardingAlone(): Promise<void> {
  const url = await createBenchDatabase(DB_NAME);
  const db = await Database.open(loadConfig({ DATABASE_URL: url }), { migrate: true });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-forward-bench-'));
  const receiver = await countingReceiver(dir);
  let forwarder: ReceiverForwarder | undefined;
  try {
    await appendBulkRecords((sql, params) => db.dataSource.query(sql, params), RECORDS, new Date());
    const name = `syslog+tls://localhost:${receiver.port}?format=cef`;
    const clock = new SystemClock();
    forwarder = new ReceiverForwarder(
      name,
      new TransportThread(
        {
          receiver: { kind: 'syslog', transport: 'tls', host: 'localhost', port: receiver.port, format: 'cef', name },
          ca: receiver.ca,
        },
        loadConfig({}).AUDIT_FORWARD_NICE,
      ),
      new ForwardLease(db.dataSource, false, name),
      new AuditService(db.dataSource, clock, new AuditSealer(db.dataSource)),
      clock,
      15 * 60_000,
    );
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const threadsBefore = threadCpuSeconds();
    const pgBefore = await postgresCpuSeconds(db);
    forwarder.start();
    while (receiver.count() < RECORDS) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    const rate = RECORDS / seconds;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerRecordUs = (cpu.user + cpu.system) / RECORDS;
    const pgPerRecordUs = (((await postgresCpuSeconds(db)) - pgBefore) * 1e6) / RECORDS;
    console.log(
      `\nForwarding (CEF over syslog TLS, one receiver, load average ${loadavg()[0].toFixed(1)}): ` +
        `${fmtInt(RECORDS)} records in ${seconds.toFixed(2)} s = ${fmtInt(rate)} records/s ` +
        `(target ${fmtInt(TARGET_RATE)} records/s: ${rate >= TARGET_RATE ? 'met' : 'NOT met'}); ` +
        `this process's CPU ${cpuPerRecordUs.toFixed(1)} µs/record (forwarder, its transport thread and the receiver; PostgreSQL not counted)`,
    );
    console.log(
      `  CPU per record: ${cpuByThread(threadsBefore, threadCpuSeconds(), RECORDS)}, PostgreSQL ${pgPerRecordUs.toFixed(1)} µs`,
    );
  } finally {
    await forwarder?.stop();
    receiver.server.close();
    rmSync(dir, { recursive: true, force: true });
    await db.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  }
}

runBench(main);
