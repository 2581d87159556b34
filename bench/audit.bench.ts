/**
 * Durable audit appends per second on PostgreSQL and on the embedded PGlite, from 1, 8 and 64
 * concurrent writers (each an async loop awaiting one append at a time, as request handlers
 * do), by two paths:
 * - chain: AuditWriter.append() (group commit, one commit in flight, audit_append under the
 *   chain's lock: how every record but a decision's is written);
 * - inbox: the decisions' path (issue 16): group commit with PARALLEL_COMMITS commits in flight,
 *   audit_enqueue (no lock), the AuditSealer chaining them after; the seal lag (age of the
 *   oldest record not yet chained) is sampled every 10 ms. Its commits pass the sealer's
 *   back-pressure (AuditSealer.admission), as decisions' do;
 * - inbox-unpaced: the same without back-pressure (how it was before: the lag grows without bound
 *   once writers outpace the sealer), to compare in the same run.
 *
 *   npm run bench:audit [-- --seconds=5 --warmup=1 --writers=1,8,64 --db=postgres,embedded
 *                          --path=chain,inbox,inbox-unpaced]
 *
 * Environment: AUDIT_BENCH_SECONDS, AUDIT_BENCH_WARMUP_SECONDS, AUDIT_BENCH_WRITERS,
 * AUDIT_BENCH_DB, AUDIT_BENCH_PATH, BENCH_DATABASE_URL (an admin URL of the PostgreSQL to use; default
 * postgres://postgres@127.0.0.1:5432/postgres: a scratch database is created and dropped),
 * DATABASE_POOL_SIZE. Exits 1 if an append fails or the chain does not verify.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { normalizeEvent, type AuditEvent } from '../src/audit/audit-chain.js';
import { verifyAuditChain, type VerifyResult } from '../src/audit/audit-verifier.js';
import { AuditWriter, contentLines } from '../src/audit/audit-writer.js';
import { AuditSealer } from '../src/audit/sealer/audit-sealer.js';
import { GroupCommitter } from '../src/common/group-commit.js';
import { PARALLEL_COMMITS } from '../src/decisions/decision-writer.js';
import { SystemClock } from '../src/common/clock.js';
import { loadConfig } from '../src/config/config.schema.js';
import { Database } from '../src/database/database.js';
import {
  fmtInt,
  fmtMs,
  machineCpuTicks,
  numberOption,
  percentile,
  processCpuSeconds,
  runBench,
  Samples,
  stringOption,
  table,
} from './bench-util.js';

const SECONDS = numberOption('seconds', 'AUDIT_BENCH_SECONDS', 5);
const WARMUP_SECONDS = numberOption('warmup', 'AUDIT_BENCH_WARMUP_SECONDS', 1);
const WRITERS = stringOption('writers', 'AUDIT_BENCH_WRITERS', '1,8,64')
  .split(',')
  .map((s) => Number(s.trim()));
const DBS = stringOption('db', 'AUDIT_BENCH_DB', 'postgres,embedded')
  .split(',')
  .map((s) => s.trim()) as Kind[];
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const POOL_SIZE = process.env.DATABASE_POOL_SIZE ?? '10';
/** CPU seconds of the local PostgreSQL server's processes, by pid (meaningful when it runs on this machine). */
const pgCpu = () => processCpuSeconds('postgres');
/** A case that has not finished this long after its planned end is abandoned. */
const CASE_GRACE_MS = 60_000;

const PATHS = stringOption('path', 'AUDIT_BENCH_PATH', 'chain,inbox')
  .split(',')
  .map((s) => s.trim()) as Path[];

const TARGET_RATE = 20_000;
const TARGET_P99_MS = 10;
const TARGET_WRITERS = 64;
/** Issue 16: the decisions' path, durable appends from 64 writers, and the seal lag's p99. */
const TARGET_INBOX_RATE = 40_000;
const TARGET_SEAL_LAG_MS = 100;
const LAG_SAMPLE_MS = 10;

type Kind = 'postgres' | 'embedded';
type Path = 'chain' | 'inbox' | 'inbox-unpaced';
if (PATHS.some((p) => !['chain', 'inbox', 'inbox-unpaced'].includes(p))) {
  throw new Error('--path: chain, inbox and/or inbox-unpaced');
}
if (WRITERS.some((w) => !Number.isInteger(w) || w < 1 || w > 1024)) throw new Error('--writers: whole numbers 1-1024');
if (DBS.some((d) => d !== 'postgres' && d !== 'embedded')) throw new Error('--db: postgres and/or embedded');

let aborted = false;
process.once('SIGINT', () => {
  aborted = true;
  console.error('Interrupted: finishing the current case and cleaning up');
});

// ---------------------------------------------------------------------------------------
// Realistic content: the record a policy decision writes.

const DEVICES = Array.from({ length: 200 }, (_, i) => `dev-${(i * 7919).toString(16).padStart(5, '0')}`);
const ACTIONS = ['remote-session.start', 'file.download', 'service-mode.enter', 'log.collect', 'software.update'];
const USERS = ['fse.jmartin@vendor.example', 'fse.akumar@vendor.example', 'remote.support@vendor.example'];

function decisionEvent(writer: number, n: number): AuditEvent {
  const deviceId = DEVICES[(writer * 31 + n) % DEVICES.length];
  const action = ACTIONS[n % ACTIONS.length];
  const allow = n % 10 !== 0;
  return {
    eventType: 'decision',
    actorType: 'device',
    actorId: deviceId,
    deviceId,
    action,
    remoteUser: USERS[n % USERS.length],
    outcome: allow ? 'allow' : 'deny',
    ruleIds: allow ? ['R-0012', 'R-0107'] : ['R-0003'],
    policyVersion: '2025.06.14-3',
    sourceAddress: `10.20.${writer % 256}.${(n % 250) + 1}`,
    requestId: randomUUID(),
    details: {
      protocol: 'ssh',
      port: 22,
      sessionMinutes: 30,
      ticket: `CHG-${100000 + (n % 90000)}`,
      reason: allow ? 'maintenance window, ticket approved' : 'outside maintenance window',
      agentVersion: '1.4.2',
    },
  };
}

// ---------------------------------------------------------------------------------------
// Instrumentation: a DataSource whose manager times AuditWriter's commit: one statement
// (audit_append: chain lock, head, hashing, INSERT and, outside a transaction, COMMIT).

class CommitStats {
  window: [number, number] = [Infinity, Infinity];
  commits = 0;
  records = 0;
  statement = 0;
  /** inbox: commits held back by the sealer's back-pressure (the whole case). */
  held = 0;

  add(end: number, batch: number, statement: number): void {
    if (end < this.window[0] || end > this.window[1]) return;
    this.commits += 1;
    this.records += batch;
    this.statement += statement;
  }

  /** Mean time of one commit statement. */
  get meanStatement(): number {
    return this.commits ? this.statement / this.commits : NaN;
  }
}

function instrumented(dataSource: DataSource, stats: CommitStats): DataSource {
  const manager = new Proxy(dataSource.manager, {
    get(target, prop) {
      if (prop === 'query') {
        return async (sql: string, params: unknown[]) => {
          const q0 = performance.now();
          const rows = await target.query<unknown[]>(sql, params);
          const q1 = performance.now();
          stats.add(q1, rows.length, q1 - q0);
          return rows;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return new Proxy(dataSource, {
    get(target, prop) {
      if (prop === 'manager') return manager;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// ---------------------------------------------------------------------------------------
// One case: N writers for warm-up + measured seconds.

interface CaseResult {
  kind: Kind;
  path: Path;
  /** inbox: records still unsealed after the sealer's stop() (its read barrier gave up). */
  leftAtStop: number;
  /** inbox: the seal lag sampled every LAG_SAMPLE_MS in the measured window (ms). */
  lagP99?: number;
  lagMax?: number;
  writers: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  measured: number;
  appended: number;
  failures: number;
  firstFailure?: string;
  stats: CommitStats;
  /** Shares of one core during the measured window (machineCpu: of all cores). */
  nodeCpu: number;
  pgCpu: number;
  machineCpu: number;
}

/**
 * The decisions' path without the decisions: records into audit_inbox, PARALLEL_COMMITS commits
 * at once and held back while the sealer is behind (as DecisionWriter; `paced` false: not held),
 * each commit waking the sealer (as DecisionsService).
 */
function inboxWriter(dataSource: DataSource, stats: CommitStats, sealer: AuditSealer, paced: boolean) {
  const committer = new GroupCommitter<Required<AuditEvent>, void>(
    async (events) => {
      const q0 = performance.now();
      await dataSource.query("SELECT audit_enqueue(string_to_array($1, E'\\n'), $2)", [
        contentLines(events),
        new Date().toISOString(),
      ]);
      const q1 = performance.now();
      stats.add(q1, events.length, q1 - q0);
      sealer.soon();
      return events.map(() => undefined);
    },
    (error) => error,
    {
      parallel: PARALLEL_COMMITS,
      admission: paced ? sealer.admission : undefined,
      onAdmissionWait: () => (stats.held += 1),
    },
  );
  return {
    append: (event: AuditEvent) => committer.submit(normalizeEvent(event)),
    close: () => committer.close(),
  };
}

async function runCase(kind: Kind, path: Path, dataSource: DataSource, writers: number): Promise<CaseResult> {
  const stats = new CommitStats();
  const sealer = new AuditSealer(dataSource);
  if (path !== 'chain') sealer.start();
  const writer =
    path === 'chain'
      ? new AuditWriter(instrumented(dataSource, stats), new SystemClock())
      : inboxWriter(dataSource, stats, sealer, path === 'inbox');
  const latencies = new Samples();
  const lags = new Samples();
  const start = performance.now();
  const measureStart = start + WARMUP_SECONDS * 1000;
  const stop = measureStart + SECONDS * 1000;
  stats.window = [measureStart, stop];
  let appended = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  // CPU used during the measured window: this process, PostgreSQL's processes, the whole machine.
  const snapshot = () => ({ t: performance.now(), node: process.cpuUsage(), machine: machineCpuTicks(), pg: pgCpu() });
  let cpu0: ReturnType<typeof snapshot> | undefined;
  let cpu1: ReturnType<typeof snapshot> | undefined;
  const cpuTimer = setTimeout(() => (cpu0 = snapshot()), Math.max(0, measureStart - performance.now()));
  const endTimer = setTimeout(() => (cpu1 = snapshot()), Math.max(0, stop - performance.now()));

  const loop = async (w: number) => {
    for (let n = 0; !aborted && performance.now() < stop; n++) {
      const event = decisionEvent(w, n);
      const t0 = performance.now();
      try {
        await writer.append(event);
        appended += 1;
      } catch (error) {
        failures += 1;
        firstFailure ??= (error as Error).message;
        // A failing database fails fast; do not spin.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const t1 = performance.now();
      if (t1 >= measureStart && t1 <= stop) latencies.push(t1 - t0);
    }
  };
  // The seal lag, sampled on its own connection's turn in the pool (inbox only).
  const sampleLag = async () => {
    while (path !== 'chain' && !aborted && performance.now() < stop) {
      await new Promise((r) => setTimeout(r, LAG_SAMPLE_MS));
      const lag = await sealer.oldestSeconds();
      const now = performance.now();
      if (now >= measureStart && now <= stop) lags.push(lag * 1000);
    }
  };
  let watchdog: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all([...Array.from({ length: writers }, (_, w) => loop(w)), sampleLag()]),
      new Promise((_, reject) => {
        watchdog = setTimeout(
          () => reject(new Error(`${kind}, ${writers} writers: not finished ${CASE_GRACE_MS / 1000} s after its end`)),
          stop - start + CASE_GRACE_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(watchdog);
    clearTimeout(cpuTimer);
    clearTimeout(endTimer);
  }
  await writer.close();
  await sealer.stop();
  // What stop() could not seal within its read barrier (inbox-unpaced: the backlog), sealed now
  // so that the next case starts from an empty inbox and the verify counts every append.
  let leftAtStop = 0;
  if (path !== 'chain') {
    let sealed: number;
    do {
      [{ sealed }] = await dataSource.query<{ sealed: number }[]>('SELECT audit_seal(5000, true) AS sealed');
      leftAtStop += sealed;
    } while (sealed >= 5000);
  }

  const sorted = latencies.sorted();
  const lagSorted = lags.sorted();
  const sum = sorted.reduce((a, b) => a + b, 0);
  let nodeCpu = NaN;
  let pgCpuShare = kind === 'embedded' ? 0 : NaN;
  let machineCpu = NaN;
  if (cpu0 && cpu1) {
    const wall = (cpu1.t - cpu0.t) / 1000;
    nodeCpu = (cpu1.node.user + cpu1.node.system - cpu0.node.user - cpu0.node.system) / 1e6 / wall;
    if (kind === 'postgres' && cpu0.pg && cpu1.pg) {
      // Only the backends serving this database: others may share the server.
      const ours = await dataSource.query<{ pid: number }[]>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
      );
      let seconds = 0;
      for (const { pid } of ours) seconds += (cpu1.pg.get(pid) ?? 0) - (cpu0.pg.get(pid) ?? 0);
      pgCpuShare = seconds / wall;
    }
    if (cpu0.machine && cpu1.machine) {
      machineCpu = (cpu1.machine.busy - cpu0.machine.busy) / (cpu1.machine.total - cpu0.machine.total);
    }
  }
  return {
    kind,
    path,
    leftAtStop,
    lagP99: path !== 'chain' ? percentile(lagSorted, 99) : undefined,
    lagMax: path !== 'chain' && lagSorted.length ? lagSorted[lagSorted.length - 1] : undefined,
    writers,
    rate: sorted.length / SECONDS,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
    measured: sorted.length,
    appended,
    failures,
    firstFailure,
    stats,
    nodeCpu,
    pgCpu: pgCpuShare,
    machineCpu,
  };
}

// ---------------------------------------------------------------------------------------
// Databases.

interface OpenDb {
  kind: Kind;
  db: Database;
  label: string;
  dispose: () => Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  client.on('error', (e) => console.error(`bench database connection failed: ${e.message}`));
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Cannot reach PostgreSQL at ${new URL(ADMIN_URL).host} (set BENCH_DATABASE_URL, or run with ` +
        `--db=embedded): ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function openPostgres(): Promise<OpenDb> {
  const name = `gatehouse_bench_${process.pid}`;
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${name}`);
  const drop = () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let db: Database;
  try {
    db = await Database.open(loadConfig({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: POOL_SIZE }), {
      migrate: true,
    });
  } catch (error) {
    await drop();
    throw error;
  }
  const [info] = await db.dataSource.query<Record<string, string>[]>(
    `SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
       current_setting('synchronous_commit') AS synchronous_commit, current_setting('wal_sync_method') AS wal_sync_method,
       current_setting('commit_delay') AS commit_delay`,
  );
  return {
    kind: 'postgres',
    db,
    label:
      `PostgreSQL ${info.version} at ${url.host} (scratch database ${name}): fsync=${info.fsync} ` +
      `synchronous_commit=${info.synchronous_commit} wal_sync_method=${info.wal_sync_method} ` +
      `commit_delay=${info.commit_delay}, pool ${POOL_SIZE}`,
    dispose: async () => {
      await db.close();
      await drop();
    },
  };
}

async function openEmbedded(): Promise<OpenDb> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-pglite-'));
  let db: Database;
  try {
    db = await Database.open(loadConfig({ GATEHOUSE_DATA_DIR: dir, DATABASE_POOL_SIZE: POOL_SIZE }), {
      migrate: true,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    kind: 'embedded',
    db,
    label: `Embedded PGlite in ${dir} (fresh data directory, served on a Unix socket in this process)`,
    dispose: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The chain's JavaScript per record: normalizeEvent (which prepares the canonical content JSON). */
function normalizeMicros(batch: number): number {
  const events = Array.from({ length: batch }, (_, i) => decisionEvent(i, i));
  const rounds = 300;
  events.map(normalizeEvent);
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) events.map(normalizeEvent);
  return ((performance.now() - t0) * 1000) / (rounds * batch);
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  Logger.overrideLogger(['error', 'warn']);
  console.log(
    `Audit append benchmark: durable appends by path ${PATHS.join(', ')} (chain: AuditWriter.append(); inbox: ` +
      `the decisions' path, sealed after), ${SECONDS} s per case after ${WARMUP_SECONDS} s warm-up; writers ${WRITERS.join(', ')}`,
  );
  console.log(
    `Machine: ${availableParallelism()} CPUs, Node ${process.version}; database and bench share them; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );

  const results: CaseResult[] = [];
  const verifications: { kind: Kind; result: VerifyResult; appended: number; seconds: number }[] = [];
  let failed = false;

  for (const kind of DBS) {
    if (aborted) break;
    const open = kind === 'postgres' ? await openPostgres() : await openEmbedded();
    console.log(open.label);
    try {
      let appended = 0;
      for (const path of PATHS) {
        for (const writers of WRITERS) {
          if (aborted) break;
          const r = await runCase(kind, path, open.db.dataSource, writers);
          appended += r.appended;
          results.push(r);
          console.log(
            `  ${kind}, ${path}, ${writers} writer(s): ${fmtInt(r.rate)} appends/s, p50 ${fmtMs(r.p50)} ms, ` +
              `p99 ${fmtMs(r.p99)} ms` +
              (r.lagP99 === undefined
                ? ''
                : `, seal lag p99 ${fmtMs(r.lagP99)} ms, max ${fmtMs(r.lagMax ?? NaN)} ms, ` +
                  `${fmtInt(r.stats.held)} commits held back, ${fmtInt(r.leftAtStop)} unsealed at stop`) +
              (r.failures ? `, ${r.failures} FAILED appends (${r.firstFailure})` : ''),
          );
          if (r.failures) failed = true;
        }
      }
      const v0 = performance.now();
      const result = await verifyAuditChain(open.db.dataSource);
      verifications.push({ kind, result, appended, seconds: (performance.now() - v0) / 1000 });
      if (!result.ok || result.records !== appended) failed = true;
    } finally {
      await open.dispose();
    }
  }

  console.log('\nResults (latency = one append() call, from the caller until its record is committed):\n');
  console.log(
    table([
      [
        'database',
        'path',
        'writers',
        'appends/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'seal lag p99 ms',
        'seal lag max ms',
        'records',
        'commits',
        'avg batch',
        'node CPU',
        'pg CPU',
        'machine CPU',
        'CPU µs/append',
      ],
      ...results.map((r) => [
        r.kind,
        r.path,
        String(r.writers),
        fmtInt(r.rate),
        fmtMs(r.p50),
        fmtMs(r.p99),
        fmtMs(r.max),
        r.lagP99 === undefined ? '-' : fmtMs(r.lagP99),
        r.lagMax === undefined ? '-' : fmtMs(r.lagMax),
        fmtInt(r.measured),
        fmtInt(r.stats.commits),
        fmtMs(r.stats.records / r.stats.commits, 1),
        `${fmtInt(r.nodeCpu * 100)}%`,
        r.kind === 'embedded' ? '(in node)' : `${fmtInt(r.pgCpu * 100)}%`,
        `${fmtInt(r.machineCpu * 100)}%`,
        fmtInt(((r.nodeCpu + r.pgCpu) * 1e6) / r.rate),
      ]),
    ]),
  );
  console.log(
    "\n(records = appends completed in the measured window; node CPU = this process and pg CPU = this database's " +
      'PostgreSQL backends, 100% = one core; machine CPU = all cores, other tenants included; CPU µs/append = (node + pg) ' +
      'CPU time per append; seal lag = age of the oldest record committed but not yet chained, sampled every ' +
      `${LAG_SAMPLE_MS} ms)`,
  );

  console.log(
    '\nWhere an append goes (mean ms; chain: one commit in flight at a time, a commit is one statement, ' +
      `audit_append: chain lock, head, SHA-256, INSERT, COMMIT; inbox: ${PARALLEL_COMMITS} in flight, audit_enqueue):\n`,
  );
  console.log(
    table([
      ['database', 'path', 'writers', 'records/commit', 'commit statement', 'append mean', 'queued'],
      ...results.map((r) => [
        r.kind,
        r.path,
        String(r.writers),
        fmtMs(r.stats.records / r.stats.commits, 1),
        fmtMs(r.stats.meanStatement, 3),
        fmtMs(r.mean, 3),
        fmtMs(r.mean - r.stats.meanStatement, 3),
      ]),
    ]),
  );
  console.log(
    '\n(queued = append mean - commit statement: time an append waits for the commit in flight before its own; ' +
      'statement times include event-loop delay)',
  );
  const normalize = normalizeMicros(TARGET_WRITERS);
  console.log(
    `Chain JavaScript per record, no I/O: normalizeEvent + content JSON ${normalize.toFixed(1)} µs ` +
      `(the database hashes: audit_append)`,
  );

  console.log('\nChain verification (verifyAuditChain):');
  for (const v of verifications) {
    const counts =
      v.result.records === v.appended
        ? `${fmtInt(v.result.records)} records (= ${fmtInt(v.appended)} appended)`
        : `${fmtInt(v.result.records)} records but ${fmtInt(v.appended)} appended: MISMATCH`;
    console.log(
      v.result.ok
        ? `  ${v.kind}: ok, ${counts}, head seq ${v.result.head?.seq ?? 0} ${v.result.head?.hash ?? ''} ` +
            `(${v.seconds.toFixed(1)} s)`
        : `  ${v.kind}: FAILED at record ${v.result.firstBadSeq}: ${v.result.reason} (${counts})`,
    );
  }

  const target = results.find((r) => r.kind === 'postgres' && r.path === 'chain' && r.writers === TARGET_WRITERS);
  const verdict = target
    ? `measured ${fmtInt(target.rate)} appends/s, p99 ${fmtMs(target.p99)} ms: ` +
      (target.rate >= TARGET_RATE && target.p99 < TARGET_P99_MS ? 'PASS' : 'FALL SHORT')
    : 'not measured (run with --db including postgres and --writers including 64)';
  console.log(
    `\ntarget: ≥ ${fmtInt(TARGET_RATE)} appends/s from ${TARGET_WRITERS} writers on PostgreSQL, ` +
      `p99 < ${TARGET_P99_MS} ms — ${verdict}`,
  );
  const inbox = results.find((r) => r.kind === 'postgres' && r.path === 'inbox' && r.writers === TARGET_WRITERS);
  const inboxVerdict = inbox
    ? `measured ${fmtInt(inbox.rate)} appends/s, seal lag p99 ${fmtMs(inbox.lagP99 ?? NaN)} ms: ` +
      (inbox.rate >= TARGET_INBOX_RATE && (inbox.lagP99 ?? Infinity) < TARGET_SEAL_LAG_MS ? 'PASS' : 'FALL SHORT')
    : 'not measured (run with --db including postgres, --path including inbox, --writers including 64)';
  console.log(
    `target (issue 16, decisions' path): ≥ ${fmtInt(TARGET_INBOX_RATE)} durable appends/s from ${TARGET_WRITERS} ` +
      `writers on PostgreSQL, seal lag p99 < ${TARGET_SEAL_LAG_MS} ms — ${inboxVerdict}`,
  );
  console.log(
    `(load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );
  if (failed) console.error('\nFAILED: an append failed or the chain did not verify');
  if (aborted) console.error('\nInterrupted: results are incomplete');
  return failed || aborted ? 1 : 0;
}

runBench(main);
