/**
 * What the HTTP framework costs on the decision path: a bare Node `http` server, NestJS on
 * the Fastify adapter and NestJS on the Express adapter, each answering
 * POST /v1/decisions with {"decision":"allow"}, loaded by autocannon on loopback.
 *
 *   npm run bench:http [-- --seconds=5 --warmup=2 --connections=64]
 *
 * Environment: HTTP_BENCH_SECONDS, HTTP_BENCH_WARMUP_SECONDS, HTTP_BENCH_CONNECTIONS,
 * HTTP_BENCH_PIN=0 (do not pin client and server to separate CPUs).
 *
 * Each server runs alone in a child process (same Node, same flags, NODE_ENV=production);
 * autocannon runs in this process. With two or more CPUs and `taskset`, this process is
 * pinned to CPU 0 and the server to CPU 1, so every server gets the same one core.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { bareJsonServer, fmtInt, fmtMs, numberOption, percentile, runBench, Samples, table } from './bench-util.js';

type Kind = 'bare' | 'fastify' | 'express';
const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'bare', label: 'bare node:http' },
  { kind: 'fastify', label: 'NestJS + Fastify' },
  { kind: 'express', label: 'NestJS + Express' },
];
const PATH = '/v1/decisions';
const REQUEST_BODY = JSON.stringify({
  deviceId: 'dev-0042a',
  action: 'remote-session.start',
  remoteUser: 'fse.jmartin@vendor.example',
  sourceAddress: '10.20.30.40',
});
const RESPONSE_BODY = JSON.stringify({ decision: 'allow' });

type ToParent = { type: 'ready'; port: number } | { type: 'skip'; reason: string } | { type: 'cpu'; micros: number };
type ToChild = { type: 'cpu' } | { type: 'stop' };

// ---------------------------------------------------------------------------------------
// Child: one server.

function startBare(): Promise<{ server: Server; port: number }> {
  const server = bareJsonServer(PATH, RESPONSE_BODY);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

async function serve(kind: Kind): Promise<void> {
  const send = (message: ToParent) => process.send?.(message);
  let close: () => Promise<void>;
  let port: number;
  try {
    if (kind === 'bare') {
      const bare = await startBare();
      port = bare.port;
      close = () =>
        new Promise((r) => {
          bare.server.close(() => r());
          bare.server.closeAllConnections();
        });
    } else {
      const { startNestApp } = await import('./http-nest-app.js');
      const nest = await startNestApp(kind);
      port = nest.port;
      close = () => nest.app.close();
    }
  } catch (error) {
    send({ type: 'skip', reason: (error as Error).message.split('\n')[0] });
    process.disconnect?.();
    return;
  }
  process.on('message', (message: ToChild) => {
    if (message.type === 'cpu') {
      const cpu = process.cpuUsage();
      send({ type: 'cpu', micros: cpu.user + cpu.system });
    } else if (message.type === 'stop') {
      void close().finally(() => process.exit(0));
    }
  });
  // If the parent goes away, so does the server.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port });
}

// ---------------------------------------------------------------------------------------
// Parent: load each server in turn.

const SECONDS = numberOption('seconds', 'HTTP_BENCH_SECONDS', 5);
const WARMUP_SECONDS = numberOption('warmup', 'HTTP_BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = numberOption('connections', 'HTTP_BENCH_CONNECTIONS', 64);
const START_TIMEOUT_MS = 30_000;
/** Before pinning: availableParallelism() follows this process's CPU affinity. */
const CPUS = availableParallelism();

interface Measured {
  kind: Kind;
  label: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
  serverCpu: number;
  clientCpu: number;
}

/** Pins this process to CPU 0 and returns the taskset prefix for the server, when possible. */
function pinning(): { prefix: string[]; note: string } {
  if (process.env.HTTP_BENCH_PIN === '0') return { prefix: [], note: 'not pinned (HTTP_BENCH_PIN=0)' };
  if (CPUS < 2) return { prefix: [], note: 'not pinned (one CPU)' };
  try {
    execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
    return { prefix: ['taskset', '-c', '1'], note: 'autocannon pinned to CPU 0, each server to CPU 1' };
  } catch {
    return { prefix: [], note: 'not pinned (taskset unavailable)' };
  }
}

class ServerProcess {
  private readonly waiting: ((m: ToParent) => void)[] = [];
  private exited = false;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: ToParent) => this.waiting.shift()?.(m));
    child.on('exit', () => {
      this.exited = true;
    });
  }

  static spawn(kind: Kind, prefix: string[]): ServerProcess {
    const script = fileURLToPath(import.meta.url);
    const command = [...prefix, process.execPath, ...process.execArgv, script, `--serve=${kind}`];
    const child = spawn(command[0], command.slice(1), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    return new ServerProcess(child);
  }

  next(timeoutMs: number): Promise<ToParent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not answer in time')), timeoutMs);
      const onExit = () => reject(new Error(`the server exited (code ${this.child.exitCode})`));
      this.child.once('exit', onExit);
      this.waiting.push((m) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolve(m);
      });
    });
  }

  async cpuMicros(): Promise<number> {
    this.child.send({ type: 'cpu' } satisfies ToChild);
    const m = await this.next(5000);
    return m.type === 'cpu' ? m.micros : NaN;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function load(url: string, seconds: number, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: REQUEST_BODY,
        connections: CONNECTIONS,
        pipelining: 1,
        duration: seconds,
      },
      (error: unknown, result) =>
        error
          ? reject(error instanceof Error ? error : new Error(`autocannon: ${JSON.stringify(error)}`))
          : resolve(result),
    );
    // autocannon emits (client, statusCode, bytes, ms) with sub-millisecond ms; its own
    // histogram keeps whole milliseconds only.
    if (onLatency) {
      (instance as unknown as EventEmitter).on(
        'response',
        (_client: unknown, status: number, _b: number, ms: number) => {
          if (status >= 200 && status < 300) onLatency(ms);
        },
      );
    }
  });
}

async function measure(kind: Kind, label: string, prefix: string[]): Promise<Measured | string> {
  const server = ServerProcess.spawn(kind, prefix);
  try {
    const first = await server.next(START_TIMEOUT_MS);
    if (first.type === 'skip') return first.reason;
    if (first.type !== 'ready') throw new Error(`unexpected message from the ${kind} server`);
    const url = `http://127.0.0.1:${first.port}${PATH}`;

    const check = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: REQUEST_BODY,
    });
    const text = await check.text();
    if (check.status !== 200 || text !== RESPONSE_BODY) {
      throw new Error(`${label} answered ${check.status} ${text}, expected 200 ${RESPONSE_BODY}`);
    }

    await load(url, WARMUP_SECONDS);
    const latencies = new Samples();
    const server0 = await server.cpuMicros();
    const client0 = process.cpuUsage();
    const result = await load(url, SECONDS, (ms) => latencies.push(ms));
    const client = process.cpuUsage(client0);
    const server1 = await server.cpuMicros();
    const sorted = latencies.sorted();
    return {
      kind,
      label,
      rps: result.requests.average,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      requests: result.requests.total,
      errors: result.errors,
      non2xx: result.non2xx,
      serverCpu: (server1 - server0) / 1e6 / result.duration,
      clientCpu: (client.user + client.system) / 1e6 / result.duration,
    };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  const pin = pinning();
  console.log(
    `HTTP adapter benchmark: POST ${PATH} -> ${RESPONSE_BODY}, ${CONNECTIONS} connections, ` +
      `${SECONDS} s measured after ${WARMUP_SECONDS} s warm-up, loopback`,
  );
  console.log(
    `Node ${process.version}, ${CPUS} CPUs, ${pin.note}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const results: Measured[] = [];
  const skipped: string[] = [];
  let failed = false;
  for (const { kind, label } of KINDS) {
    try {
      const r = await measure(kind, label, pin.prefix);
      if (typeof r === 'string') {
        skipped.push(`${label}: skipped: ${r}`);
        console.log(`  ${label}: SKIPPED (${r})`);
        continue;
      }
      results.push(r);
      console.log(`  ${label}: ${fmtInt(r.rps)} req/s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms`);
      if (r.errors || r.non2xx) failed = true;
    } catch (error) {
      failed = true;
      console.error(`  ${label}: FAILED: ${(error as Error).message}`);
    }
  }

  const bare = results.find((r) => r.kind === 'bare');
  const ratio = (x: number, base: number | undefined) => (base ? `${(x / base).toFixed(2)}x` : 'n/a');
  console.log('');
  console.log(
    table([
      [
        'server',
        'req/s',
        'p50 ms',
        'p99 ms',
        'req/s vs bare',
        'p50 vs bare',
        'p99 vs bare',
        'requests',
        'errors',
        'non-2xx',
        'server CPU',
        'client CPU',
      ],
      ...results.map((r) => [
        r.label,
        fmtInt(r.rps),
        fmtMs(r.p50),
        fmtMs(r.p99),
        ratio(r.rps, bare?.rps),
        ratio(r.p50, bare?.p50),
        ratio(r.p99, bare?.p99),
        fmtInt(r.requests),
        String(r.errors),
        String(r.non2xx),
        `${fmtInt(r.serverCpu * 100)}%`,
        `${fmtInt(r.clientCpu * 100)}%`,
      ]),
    ]),
  );
  for (const s of skipped) console.log(s);
  console.log(
    '\n(req/s = autocannon mean of per-second counts; latency percentiles from every 2xx response; ' +
      'CPU 100% = one core; client CPU near 100% means autocannon, not the server, set the pace)',
  );
  if (failed) console.error('\nFAILED: a server failed, or answered with errors');
  return failed ? 1 : 0;
}

const serveArg = process.argv.find((a) => a.startsWith('--serve='));
if (serveArg) {
  const kind = serveArg.slice('--serve='.length) as Kind;
  if (!KINDS.some((k) => k.kind === kind)) throw new Error(`--serve: unknown server ${kind}`);
  void serve(kind);
} else {
  runBench(main);
}
