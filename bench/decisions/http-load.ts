/** The HTTP load: the agent's decision request, autocannon, the tallies of the answers, and CPU use while loaded. */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { machineCpuTicks, percentile, processCpuSeconds, Samples } from '../bench-util.js';
import { CONNECTIONS, HTTP_SECONDS, WARMUP_SECONDS } from './options.js';

export const DECISIONS_PATH = '/api/v1/agent/decisions';
const REMOTE_USER = { id: 'fse.bench@acme.example', enterprise: 'acme-medical', groups: ['tier2'] };

/** The agent's request: log-upload for an Acme engineer, allowed by acme-log-uploads at any time. */
export function decisionBody(requestId: string): string {
  return JSON.stringify({
    requestId,
    action: 'log-upload',
    remoteUser: REMOTE_USER,
    context: { ticket: 'CS-1234', reason: 'Collect logs for a service call' },
  });
}

/** What the answers of one load were. Request ids are tracked when `pending` is given. */
export interface Tally {
  allow: number;
  otherDecision: number;
  non2xx: number;
  status5xx: number;
  statuses: Map<number, number>;
  firstProblem: string;
  latencies: Samples | null;
  /** Ids sent and not yet answered (shared between the loads against one server). */
  pending: Set<string> | null;
  /** Ids answered with a status other than 2xx: they must have no audit record. */
  refused: string[];
}

function newTally(pending: Set<string> | null, latencies: boolean): Tally {
  return {
    allow: 0,
    otherDecision: 0,
    non2xx: 0,
    status5xx: 0,
    statuses: new Map(),
    firstProblem: '',
    latencies: latencies ? new Samples() : null,
    pending,
    refused: [],
  };
}

function tallyHealth(t: Tally, status: number, body: string): void {
  t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
  if (status >= 200 && status < 300) t.otherDecision++;
  else {
    t.non2xx++;
    if (status >= 500) t.status5xx++;
    t.firstProblem ||= `${status} ${body.slice(0, 300)}`;
  }
}

function tallyAnswer(t: Tally, status: number, body: string, headers: Record<string, unknown>): void {
  t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
  const echoed = headers['x-request-id'] ?? headers['X-Request-Id'];
  const requestId = typeof echoed === 'string' ? echoed : undefined;
  if (requestId !== undefined) t.pending?.delete(requestId);
  if (status >= 200 && status < 300) {
    let decision: unknown;
    try {
      decision = (JSON.parse(body) as { decision?: unknown }).decision;
    } catch {
      decision = undefined;
    }
    if (decision === 'allow') t.allow++;
    else {
      t.otherDecision++;
      t.firstProblem ||= `${status} ${body.slice(0, 300)}`;
    }
    return;
  }
  t.non2xx++;
  if (status >= 500) t.status5xx++;
  if (requestId !== undefined && t.pending !== null) t.refused.push(requestId);
  t.firstProblem ||= `${status} ${body.slice(0, 300)}`;
}

/** autocannon: CONNECTIONS connections, a fresh request id per request, credentials in turn. */
/** `health`: GET /health/live instead of decisions: what the framework and hooks cost alone. */
export type LoadKind = 'decision' | 'health';

function load(
  url: string,
  credentials: string[],
  seconds: number,
  tally: Tally,
  kind: LoadKind = 'decision',
  /** Requests per second over all connections (autocannon's overallRate); unset: as fast as answered. */
  rate?: number,
): Promise<autocannon.Result> {
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: kind === 'decision' ? 'POST' : 'GET',
        connections: CONNECTIONS,
        pipelining: 1,
        duration: seconds,
        ...(rate ? { overallRate: rate } : {}),
        requests: [
          {
            setupRequest: (request) => {
              if (kind === 'health') return request;
              const requestId = randomUUID();
              tally.pending?.add(requestId);
              return {
                ...request,
                headers: {
                  ...request.headers,
                  'content-type': 'application/json',
                  authorization: `Bearer ${credentials[next++ % credentials.length]}`,
                  'x-request-id': requestId,
                },
                body: decisionBody(requestId),
              };
            },
            onResponse: (status, body, _context, headers) =>
              kind === 'decision' ? tallyAnswer(tally, status, body, headers ?? {}) : tallyHealth(tally, status, body),
          },
        ],
      },
      (error: unknown, result) =>
        error
          ? reject(error instanceof Error ? error : new Error(`autocannon: ${JSON.stringify(error)}`))
          : resolve(result),
    );
    // autocannon emits (client, statusCode, bytes, ms) with sub-millisecond ms; its own
    // histogram keeps whole milliseconds only.
    (instance as unknown as EventEmitter).on('response', (_c: unknown, status: number, _b: number, ms: number) => {
      if (status >= 200 && status < 300) tally.latencies?.push(ms);
    });
  });
}

export interface HttpRun {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  measured: Tally;
  warm: Tally;
  /** The measured load, in µs of the monotonic clock (for the server's profile). */
  windowUs: [number, number];
  serverCpu: number;
  clientCpu: number;
  pgCpu: number;
  machineCpu: number;
}

function cpuSnapshot(serverPid: number | undefined, pgPids: number[]) {
  const node = serverPid === undefined ? undefined : processCpuSeconds('node');
  const postgres = pgPids.length > 0 ? processCpuSeconds('postgres') : undefined;
  let pgSeconds = pgPids.length > 0 && postgres === undefined ? NaN : 0;
  for (const pid of pgPids) pgSeconds += postgres?.get(pid) ?? 0;
  return {
    t: performance.now(),
    client: process.cpuUsage(),
    server: serverPid === undefined ? NaN : (node?.get(serverPid) ?? NaN),
    pg: pgSeconds,
    machine: machineCpuTicks(),
  };
}

export async function measure(
  label: string,
  url: string,
  credentials: string[],
  serverPid: number | undefined,
  pgPids: () => Promise<number[]>,
  pending: Set<string> | null,
  kind: LoadKind = 'decision',
  // Other benches (bench:audit's forwarding part) choose their own durations.
  timing: { warmupSeconds: number; seconds: number; rate?: number } = {
    warmupSeconds: WARMUP_SECONDS,
    seconds: HTTP_SECONDS,
  },
): Promise<HttpRun> {
  const warm = newTally(pending, false);
  await load(url, credentials, timing.warmupSeconds, warm, kind, timing.rate);
  const pids = await pgPids();
  const measured = newTally(pending, true);
  const c0 = cpuSnapshot(serverPid, pids);
  const w0 = Number(process.hrtime.bigint() / 1000n);
  const result = await load(url, credentials, timing.seconds, measured, kind, timing.rate);
  const w1 = Number(process.hrtime.bigint() / 1000n);
  const c1 = cpuSnapshot(serverPid, pids);
  const wall = (c1.t - c0.t) / 1000;
  const sorted = measured.latencies!.sorted();
  return {
    label,
    rps: result.requests.average,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors,
    timeouts: result.timeouts,
    measured,
    warm,
    windowUs: [w0, w1],
    serverCpu: (c1.server - c0.server) / wall,
    clientCpu: (c1.client.user + c1.client.system - c0.client.user - c0.client.system) / 1e6 / wall,
    pgCpu: (c1.pg - c0.pg) / wall,
    machineCpu:
      c0.machine && c1.machine ? (c1.machine.busy - c0.machine.busy) / (c1.machine.total - c0.machine.total) : NaN,
  };
}
