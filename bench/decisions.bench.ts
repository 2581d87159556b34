/**
 * Policy decisions at scale, in one run:
 * 1. a large policy set generated deterministically (2,000 rules, 100 device groups, 10,000
 *    devices, 5,000 remote users of 50 enterprises), loaded as YAML text through the real
 *    strict loader, then compiled (new PolicyEngine, new DeviceGrouper);
 * 2. PolicyEngine.decide() latency in this process (one core), with a CPU profile and a
 *    split of the time by condition when the targets are missed;
 * 3. resident memory after loading, compiling and grouping the 10,000 devices;
 * 4. the real Gatehouse app (dist/src/main.js, PostgreSQL, durable audit) answering
 *    POST /api/v1/agent/decisions under autocannon on loopback, next to a bare Node `http`
 *    server answering a fixed JSON with the same client settings; every answer's audit
 *    record is counted.
 *
 *   npm run bench:decisions [-- --calls=1000000 --seconds=5 --http-seconds=10 --warmup=2
 *                              --connections=64 --http=on|off --profile=auto|on|off --server-profile=off|on]
 *
 * Environment: DECISIONS_BENCH_CALLS, DECISIONS_BENCH_SECONDS, DECISIONS_BENCH_HTTP_SECONDS,
 * DECISIONS_BENCH_WARMUP_SECONDS, DECISIONS_BENCH_CONNECTIONS, DECISIONS_BENCH_HTTP,
 * DECISIONS_BENCH_PROFILE, DECISIONS_BENCH_SERVER_PROFILE (on: Gatehouse runs with --cpu-prof
 * and its hottest functions are printed; the profiler slows it), BENCH_DATABASE_URL (an admin
 * URL of the PostgreSQL to use; default postgres://postgres@127.0.0.1:5432/postgres: a scratch
 * database gatehouse_bench_dec_<pid> is created and dropped).
 *
 * Exits 1 on a correctness failure: decide() disagreeing with a full scan of every rule
 * (explain()), a rule failing to evaluate, an HTTP answer that is a 5xx or not an allow,
 * a number of decision audit records other than the number of answers, or a part that
 * could not run.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { Session, type Profiler } from 'node:inspector/promises';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import autocannon from 'autocannon';
import pg from 'pg';
import { stringify } from 'yaml';
import { CompiledRule, Mismatch } from '../src/policies/engine/compiled-rule.js';
import type { DecisionInput } from '../src/policies/engine/decision.types.js';
import { DeviceGrouper, type DeviceAttributes } from '../src/policies/engine/device-groups.js';
import { PolicyEngine } from '../src/policies/engine/policy-engine.js';
import { loadPolicySources, type PolicySourceText } from '../src/policies/policy-loader.js';
import { ACTION_CATALOGUE, compileGlob } from '../src/policies/policy-schema.js';
import type { PolicySet } from '../src/policies/policy.types.js';
import { ZoneOffsetCache } from '../src/policies/zone-offsets.js';
import {
  ADMIN_URL,
  adminQuery,
  BENCH_ADMIN_PASSWORD as ADMIN_PASSWORD,
  call,
  freePort,
  ServerChild,
  startGatehouse,
  waitReady,
} from './bench-server.js';
import {
  bareJsonServer,
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

// ---------------------------------------------------------------------------------------
// Options, sizes and targets.

const CALLS = numberOption('calls', 'DECISIONS_BENCH_CALLS', 1_000_000);
const SECONDS = numberOption('seconds', 'DECISIONS_BENCH_SECONDS', 5);
const HTTP_SECONDS = numberOption('http-seconds', 'DECISIONS_BENCH_HTTP_SECONDS', 10);
const WARMUP_SECONDS = numberOption('warmup', 'DECISIONS_BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = numberOption('connections', 'DECISIONS_BENCH_CONNECTIONS', 64);
const HTTP = stringOption('http', 'DECISIONS_BENCH_HTTP', 'on');
const PROFILE = stringOption('profile', 'DECISIONS_BENCH_PROFILE', 'auto');
const SERVER_PROFILE = stringOption('server-profile', 'DECISIONS_BENCH_SERVER_PROFILE', 'off');
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS > 1024) throw new Error('--connections: a whole number 1-1024');
if (HTTP !== 'on' && HTTP !== 'off') throw new Error('--http: on or off');
if (!['auto', 'on', 'off'].includes(PROFILE)) throw new Error('--profile: auto, on or off');
if (SERVER_PROFILE !== 'on' && SERVER_PROFILE !== 'off') throw new Error('--server-profile: on or off');

const SEED = 0x6a7e4005;
const RULES = 2000;
const RULES_PER_FILE = 100;
const GROUPS = 100;
const DEVICES = 10_000;
const ENTERPRISES = 50;
const USERS_PER_ENTERPRISE = 100;
const MODELS = 100;
const SITES = 20;
const ZONES = ['Europe/Paris', 'America/Denver', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];
const YEAR_START = Date.UTC(2026, 0, 1);
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
/** Three poll intervals of 30 s, as DecisionsService passes it. */
const STATE_MAX_AGE_MS = 90_000;
/** Distinct pre-generated inputs; the timed loops cycle through them. */
const INPUT_POOL = 100_000;
/** Calls timed one by one right after compiling (and warmUp, when the engine has one). */
const FIRST_CALLS = 1000;
/** The instant the engine is compiled at, for the first calls after compiling: 2026-06-15 09:00 UTC. */
const FIRST_CLOCK = Date.UTC(2026, 5, 15, 9, 0);
/** Inputs whose decisions are checked against a full scan of every rule. */
const CHECK_SAMPLE = 20_000;

const TARGET_COMPILE_MS = 1000;
const TARGET_P50_NS = 1000;
const TARGET_P99_NS = 5000;
const TARGET_FIRST_MS = 1;
const TARGET_RSS_MB = 300;
const TARGET_HTTP_RATIO = 0.3;
const TARGET_HTTP_P99_MS = 10;
const HTTP_TARGETS = {
  ratio: `HTTP req/s ≥ ${TARGET_HTTP_RATIO} x bare node:http`,
  p99: `HTTP p99 < ${TARGET_HTTP_P99_MS} ms at ${CONNECTIONS} connections`,
  answers: 'HTTP: no 5xx, every 2xx answer an allow',
  audit: 'decision audit records = answers',
};

/** Repository root: this file runs as dist/bench/decisions.bench.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Verdict = 'PASS' | 'FALL SHORT' | 'FAILED' | 'NOT MEASURED';
interface SummaryLine {
  target: string;
  measured: string;
  verdict: Verdict;
}
const summary: SummaryLine[] = [];
const meets = (ok: boolean): Verdict => (ok ? 'PASS' : 'FALL SHORT');
const holds = (ok: boolean): Verdict => (ok ? 'PASS' : 'FAILED');

const fmtUs = (ns: number, digits = 2): string => (Number.isFinite(ns) ? (ns / 1000).toFixed(digits) : 'n/a');
const MB = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

let aborted = false;
process.once('SIGINT', () => {
  aborted = true;
  console.error('Interrupted: finishing the current part and cleaning up');
});

// ---------------------------------------------------------------------------------------
// A deterministic world: devices, remote users and a policy set as YAML files.

/** mulberry32: small, fast, and the same sequence on every run. */
class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** k distinct items, in the order drawn. */
  sample<T>(items: readonly T[], k: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(k, items.length)) chosen.add(this.int(items.length));
    return [...chosen].map((i) => items[i]);
  }
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const enterprise = (e: number): string => `ent-${pad(e, 2)}`;
const clock = (minutes: number): string => `${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const USER_GROUPS = ['tier1', 'tier2', 'tier3', 'field-service', 'remote-ops'];
const SITE_NAMES = ['North', 'South', 'East', 'West', 'Main'];
const FILE_PATHS = [
  '/var/log/syslog',
  '/var/log/app/trace.1.log',
  '/data/images/2026/ct-0001.dcm',
  '/opt/app/conf/settings.ini',
  '/etc/shadow',
  '/var/log/../../etc/passwd',
  '/tmp/core.1234',
];
const PACKAGES = ['pkg-recon', 'pkg-viewer', 'fw-ct-4.2', 'fw-mr-1.9', 'tools'];
const PATH_GLOBS = ['/var/log/**', '/data/**', '/opt/app/*/*.ini', '**/core.[0-9]*', '/tmp/**'];
const PACKAGE_GLOBS = ['pkg-*', 'fw-ct-?.*', 'fw-*', 'tools'];

interface RemoteUser {
  id: string;
  enterprise: string;
  groups: string[];
}

interface World {
  devices: DeviceAttributes[];
  users: RemoteUser[];
  sources: PolicySourceText[];
}

function randomWindow(rng: Rng): { days: string[]; from: string; to: string } {
  const r = rng.next();
  const days =
    r < 0.5
      ? ['mon', 'tue', 'wed', 'thu', 'fri']
      : r < 0.65
        ? ['sat', 'sun']
        : rng.sample(WEEKDAYS, 1 + rng.int(7)).sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b));
  const start = rng.int(48) * 30;
  const end = start + (2 + rng.int(27)) * 30; // 1 to 14 hours; past 24:00 crosses midnight
  return { days, from: clock(start), to: end === 1440 ? '24:00' : clock(end % 1440) };
}

function randomDates(rng: Rng): { from: string; to: string } {
  const from = YEAR_START + rng.int(360) * DAY_MS + rng.int(24) * 3_600_000;
  const to = from + (1 + rng.int(72)) * 3_600_000;
  const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  return { from: local(from), to: local(to) };
}

function generateRule(rng: Rng, k: number, groupNames: string[]): Record<string, unknown> {
  const r = rng.next();
  const effect = r < 0.8 ? 'allow' : r < 0.92 ? 'ask' : 'deny';
  const actions = rng.chance(0.005) ? ['*'] : rng.sample(ACTION_CATALOGUE, rng.chance(0.3) ? 2 + rng.int(2) : 1);
  const devices = rng.chance(0.01) ? ['*'] : rng.sample(groupNames, 1 + rng.int(3));
  const rule: Record<string, unknown> = {
    id: `gen-${pad(k, 4)}`,
    description: `Generated rule ${k}: ${effect} ${actions.join(', ')}`,
    effect,
    actions,
    devices,
  };

  const e = rng.int(ENTERPRISES);
  const domain = `@${enterprise(e)}.example`;
  const remoteUsers: Record<string, string[]> = {};
  if (rng.chance(0.9)) {
    remoteUsers.enterprises = rng.chance(0.2)
      ? [enterprise(e), enterprise((e + 1 + rng.int(ENTERPRISES - 1)) % ENTERPRISES)]
      : [enterprise(e)];
  }
  const u = rng.next();
  if (u < 0.6) remoteUsers.users = [`*${domain}`];
  else if (u < 0.8)
    remoteUsers.users = rng.sample(range(USERS_PER_ENTERPRISE), 1 + rng.int(5)).map((n) => `u${pad(n, 3)}${domain}`);
  else if (u < 0.9) remoteUsers.users = [`u0${rng.int(10)}*${domain}`];
  if (rng.chance(0.3)) remoteUsers.groups = rng.sample(['tier1', 'tier2', 'tier*', 'field-*'], 1 + rng.int(2));
  if (Object.keys(remoteUsers).length > 0) rule.remoteUsers = remoteUsers;

  const fileAction = actions.some((a) => a === 'file-upload' || a === 'file-download');
  if (fileAction && rng.chance(0.4)) rule.target = { paths: rng.sample(PATH_GLOBS, 1 + rng.int(2)) };
  else if (actions.includes('software-install') && rng.chance(0.4)) {
    rule.target = { packages: rng.sample(PACKAGE_GLOBS, 1 + rng.int(2)) };
  }

  const when: Record<string, unknown> = {};
  if (rng.chance(0.5)) {
    when.timezone = rng.pick(ZONES);
    if (rng.chance(0.85)) when.windows = Array.from({ length: 1 + rng.int(2) }, () => randomWindow(rng));
    if (when.windows === undefined || rng.chance(0.15)) when.dates = [randomDates(rng)];
    if (rng.chance(0.1)) {
      when.validFrom = '2026-03-01T00:00:00Z';
      when.validUntil = '2026-11-01T00:00:00+01:00';
    }
  }
  if (rng.chance(0.1)) when.deviceState = rng.chance(0.7) ? { inUse: false } : { mode: 'service' };
  if (Object.keys(when).length > 0) rule.when = when;

  if (effect === 'ask' && rng.chance(0.6)) {
    rule.approval = {
      approvers: rng.chance(0.5) ? ['Biomed-Approvers'] : ['Biomed-Approvers', 'Radiology-Leads'],
      required: 1 + rng.int(2),
      timeoutMinutes: rng.pick([30, 60, 120]),
      ...(rng.chance(0.3) ? { maxGrantMinutes: 120 } : {}),
    };
  }
  return rule;
}

function generateWorld(rng: Rng): World {
  const devices: DeviceAttributes[] = range(DEVICES).map((i) => {
    const site = rng.int(SITES);
    return {
      deviceId: `dev-${pad(i, 5)}`,
      model: `MODEL-${pad(rng.int(MODELS), 3)}-${'ABCD'[rng.int(4)]}${rng.int(10)}`,
      site: `Site-${pad(site, 2)} ${SITE_NAMES[site % SITE_NAMES.length]} campus`,
      serialNumber: `SN${pad(rng.int(1_000_000), 6)}`,
      agentVersion: `6.${rng.int(4)}.${rng.int(10)}`,
      assignedGroups: rng.chance(0.05) ? [`grp-${pad(rng.int(GROUPS), 3)}`] : [],
    };
  });
  const deviceIds = devices.map((d) => d.deviceId);

  const users: RemoteUser[] = [];
  for (let e = 0; e < ENTERPRISES; e++) {
    for (let u = 0; u < USERS_PER_ENTERPRISE; u++) {
      users.push({
        id: `u${pad(u, 3)}@${enterprise(e)}.example`,
        enterprise: enterprise(e),
        groups: rng.sample(USER_GROUPS, 1 + rng.int(2)),
      });
    }
  }

  // Groups 0-79 by model (every fourth also takes one of models 80-99, every tenth only at
  // sites 00-09); groups 80-99 by site. Each also lists some devices by id.
  const groupNames = range(GROUPS).map((g) => `grp-${pad(g, 3)}`);
  const deviceGroups = groupNames.map((name, g) => {
    let match: Record<string, string[]>;
    if (g < 80) {
      const model = [`MODEL-${pad(g, 3)}*`];
      if (g % 4 === 3) model.push(`MODEL-${pad(80 + (g - 3) / 4, 3)}*`);
      match = g % 10 === 9 ? { model, site: ['Site-0[0-9]*'] } : { model };
    } else {
      match = { site: [`Site-${pad(g - 80, 2)} *`] };
    }
    return { name, match, devices: rng.sample(deviceIds, 5 + rng.int(16)) };
  });

  const rules = range(RULES).map((k) => generateRule(rng, k, groupNames));
  const sources: PolicySourceText[] = [
    {
      name: 'defaults.yaml',
      text: stringify({
        defaults: { effect: 'deny', approval: { approvers: ['Biomed-Approvers'], required: 1, timeoutMinutes: 60 } },
      }),
    },
    {
      name: 'access.yaml',
      text: stringify({
        access: [
          { group: 'Gatehouse-Admins', role: 'admin' },
          { group: 'Biomed-Approvers', role: 'approver' },
          { group: 'Radiology-Leads', role: 'approver', devices: groupNames.slice(0, 40) },
        ],
      }),
    },
    { name: 'device-groups.yaml', text: stringify({ deviceGroups }) },
  ];
  for (let f = 0; f * RULES_PER_FILE < RULES; f++) {
    const slice = rules.slice(f * RULES_PER_FILE, (f + 1) * RULES_PER_FILE);
    sources.push({ name: `rules/generated-${pad(f, 2)}.yaml`, text: stringify({ rules: slice }) });
  }
  return { devices, users, sources };
}

/** Random requests: device (with its groups), remote user, action, instant over 2026, device state. */
function makeInputs(rng: Rng, world: World, groupSets: ReadonlySet<string>[], n: number): DecisionInput[] {
  const inputs: DecisionInput[] = [];
  for (let i = 0; i < n; i++) {
    const d = rng.int(world.devices.length);
    const user = rng.pick(world.users);
    const action = rng.pick(ACTION_CATALOGUE);
    const now = YEAR_START + Math.floor(rng.next() * YEAR_MS);
    let target: DecisionInput['target'];
    if (action === 'file-upload' || action === 'file-download' || action === 'script-run') {
      target = { path: rng.pick(FILE_PATHS) };
    } else if (action === 'software-install') {
      target = { package: rng.pick(PACKAGES), version: '1.2.3' };
    }
    const s = rng.next();
    const state = s < 0.5 ? { inUse: false, mode: 'idle' } : s < 0.8 ? { inUse: true, mode: 'service' } : null;
    inputs.push({
      action,
      // Some vendors' clouds do not report the enterprise.
      remoteUser: rng.chance(0.05) ? { id: user.id, groups: user.groups } : user,
      target,
      device: {
        id: world.devices[d].deviceId,
        groups: groupSets[d],
        state,
        // Up to 120 s old: a quarter of the reported states are stale (over 90 s).
        stateReportedAt: state ? now - rng.int(120_000) : null,
      },
      now,
      stateMaxAgeMs: STATE_MAX_AGE_MS,
    });
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------
// In-process measurements.

type Decide = (input: DecisionInput) => { decision: string; ruleIds: string[] };

/** Keeps results alive so that the timed calls cannot be optimised away. */
let sink = 0;

/** Each call timed on its own with process.hrtime.bigint(); bounded by calls and wall time. */
function timeEach(decide: Decide, inputs: DecisionInput[], maxCalls: number, maxMs: number) {
  const samples = new Samples();
  const start = performance.now();
  const deadline = start + maxMs;
  let calls = 0;
  while (calls < maxCalls) {
    const input = inputs[calls % inputs.length];
    const t0 = process.hrtime.bigint();
    const d = decide(input);
    const t1 = process.hrtime.bigint();
    samples.push(Number(t1 - t0));
    sink += d.ruleIds.length;
    calls++;
    if ((calls & 4095) === 0 && performance.now() > deadline) break;
  }
  return { samples, calls, seconds: (performance.now() - start) / 1000 };
}

/** Batches of calls between two clock reads: the mean cost without the timer's. */
function timeBatches(decide: Decide, inputs: DecisionInput[], maxCalls: number, maxMs: number, batch = 1000) {
  const deadline = performance.now() + maxMs;
  let calls = 0;
  let ns = 0;
  while (calls < maxCalls && performance.now() < deadline) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < batch; k++) sink += decide(inputs[(calls + k) % inputs.length]).ruleIds.length;
    ns += Number(process.hrtime.bigint() - t0);
    calls += batch;
  }
  return { meanNs: ns / calls, calls };
}

/** What one pair of process.hrtime.bigint() reads costs (median). */
function timerOverheadNs(): number {
  const samples = new Samples();
  for (let i = 0; i < 200_000; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    samples.push(Number(t1 - t0));
  }
  return percentile(samples.sorted(), 50);
}

/** The decision from a full scan of every rule (explain), the way decide() states the rule. */
function fullScan(engine: PolicyEngine, input: DecisionInput): { decision: string; ruleIds: string[] } {
  const matching = engine.explain(input).filter((e) => e.matches);
  const ids = (effect: string) =>
    matching
      .filter((e) => e.effect === effect)
      .map((e) => e.ruleId)
      .sort();
  const deny = ids('deny');
  if (deny.length > 0) return { decision: 'deny', ruleIds: deny };
  const ask = ids('ask');
  if (ask.length > 0) return { decision: 'pending', ruleIds: ask };
  const allow = ids('allow');
  if (allow.length > 0) return { decision: 'allow', ruleIds: allow };
  return { decision: engine.set.defaults.effect === 'ask' ? 'pending' : 'deny', ruleIds: [] };
}

/** The rules for each action (rules for '*' included), compiled afresh from the set. */
function candidatesByAction(set: PolicySet): Map<string, CompiledRule[]> {
  const rules = set.rules.map((r) => new CompiledRule(r));
  return new Map(ACTION_CATALOGUE.map((a) => [a, rules.filter((r) => r.allActions || r.actions.has(a))]));
}

interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

function percentiles(samples: Samples): Percentiles {
  const sorted = samples.sorted();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sum / sorted.length,
  };
}

/** Where a profiled function lives: package and file for dependencies, else the path under the repository. */
function where(url: string, line: number): string {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const dep = path.lastIndexOf('/node_modules/');
  if (dep >= 0) {
    const parts = path.slice(dep + '/node_modules/'.length).split('/');
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    return ` ${name}/…/${basename(path)}:${line}`;
  }
  return ` ${path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path}:${line}`;
}

/** What a profiled function belongs to: a dependency, a folder of src/, Node's internals, or V8's own. */
function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith('node:')) return 'node: internals';
  const dep = path.lastIndexOf('/node_modules/');
  if (dep >= 0) {
    const parts = path.slice(dep + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const own = path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path;
  return own.split('/').slice(0, 3).join('/');
}

/**
 * Self time by function (top `n`) and, for the three hottest, by line (of the compiled .js);
 * with `byArea`, also by dependency / folder of src/.
 */
function summarizeProfile(profile: Profiler.Profile, n: number, window?: [number, number]): string {
  // Within a window (µs of the monotonic clock, as process.hrtime), count the samples taken in it.
  let inWindow: Map<number, number> | undefined;
  if (window && profile.samples && profile.timeDeltas) {
    inWindow = new Map();
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      t += profile.timeDeltas![i];
      if (t >= window[0] && t <= window[1]) inWindow!.set(id, (inWindow!.get(id) ?? 0) + 1);
    });
  }
  const byArea = window !== undefined;
  const byFunction = new Map<string, number>();
  const areas = new Map<string, number>();
  const byLine = new Map<string, Map<number, number>>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = inWindow ? (inWindow.get(node.id) ?? 0) : (node.hitCount ?? 0);
    if (hits === 0) continue;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'}${where(f.url, f.lineNumber + 1)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const a = area(f.url, f.functionName);
    areas.set(a, (areas.get(a) ?? 0) + hits);
    total += hits;
    const lines = byLine.get(key) ?? new Map<number, number>();
    // Line ticks cover the whole profile: left out within a window.
    if (!inWindow) for (const t of node.positionTicks ?? []) lines.set(t.line, (lines.get(t.line) ?? 0) + t.ticks);
    byLine.set(key, lines);
  }
  const top = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  const share = (k: number) => `${((k / total) * 100).toFixed(1)}%`;
  const out = [table([['function (self time)', 'samples', 'share'], ...top.map(([k, c]) => [k, fmtInt(c), share(c)])])];
  for (const [key] of top.slice(0, 3)) {
    const lines = [...(byLine.get(key)?.entries() ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 6);
    if (lines.length === 0) continue;
    out.push(`  ${key}, hottest lines: ${lines.map(([l, c]) => `${l} (${share(c)})`).join(', ')}`);
  }
  if (byArea) {
    const topAreas = [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
    out.push(
      '',
      table([['self time by area', 'samples', 'share'], ...topAreas.map(([k, c]) => [k, fmtInt(c), share(c)])]),
    );
  }
  return out.join('\n');
}

/** A V8 CPU profile of `run` in this process (sampling every 100 µs), summarised. */
async function cpuProfile(run: () => void): Promise<string> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    run();
    const { profile } = await session.post('Profiler.stop');
    return summarizeProfile(profile, 12);
  } finally {
    session.disconnect();
  }
}

/**
 * The engine's checks re-done step by step (same order, same early exits, the same
 * compiled globs and time windows), each step adding one kind of condition: the
 * differences say what each kind costs per decision.
 */
function conditionCosts(set: PolicySet, inputs: DecisionInput[], maxMs: number): string[][] {
  interface Probe {
    allDevices: boolean;
    devices: string[];
    enterprises: RegExp[] | null;
    users: RegExp[] | null;
    userGroups: RegExp[] | null;
    paths: RegExp[] | null;
    packages: RegExp[] | null;
    rule: CompiledRule;
    state: [string, unknown][] | null;
  }
  const names = (list: string[] | undefined) => (list ? list.map((g) => compileGlob(g, 'name')) : null);
  const byAction = new Map<string, Probe[]>();
  for (const [action, rules] of candidatesByAction(set)) {
    byAction.set(
      action,
      rules.map((rule) => ({
        allDevices: rule.rule.devices.includes('*'),
        devices: rule.rule.devices,
        enterprises: names(rule.rule.remoteUsers?.enterprises),
        users: names(rule.rule.remoteUsers?.users),
        userGroups: names(rule.rule.remoteUsers?.groups),
        paths: rule.rule.target?.paths ? rule.rule.target.paths.map((g) => compileGlob(g, 'path')) : null,
        packages: names(rule.rule.target?.packages),
        rule,
        state: rule.rule.when?.deviceState ? Object.entries(rule.rule.when.deviceState) : null,
      })),
    );
  }
  const any = (patterns: RegExp[] | null, value: string | undefined) =>
    patterns === null || (value !== undefined && patterns.some((p) => p.test(value)));
  const steps = [
    'iterate candidates',
    '+ device group test',
    '+ remote user globs (enterprise, user, groups)',
    '+ target globs (path, package)',
    '+ time windows (CompiledWhen.timeMatches)',
    '+ device state',
  ];
  const run = (step: number, input: DecisionInput): number => {
    let passed = 0;
    for (const p of byAction.get(input.action)!) {
      if (step >= 1 && !p.allDevices && !p.devices.some((g) => input.device.groups.has(g))) continue;
      if (step >= 2) {
        const u = input.remoteUser;
        if (!any(p.enterprises, u.enterprise) || !any(p.users, u.id)) continue;
        if (p.userGroups !== null && !(u.groups ?? []).some((g) => any(p.userGroups, g))) continue;
      }
      if (step >= 3 && (!any(p.paths, input.target?.path) || !any(p.packages, input.target?.package))) continue;
      if (step >= 4 && p.rule.when !== null && !p.rule.when.timeMatches(input.now)) continue;
      if (step >= 5 && p.state !== null) {
        const { state, stateReportedAt } = input.device;
        if (state === null || stateReportedAt === null || input.now - stateReportedAt > input.stateMaxAgeMs) continue;
        if (p.state.some(([k, v]) => state[k] !== v)) continue;
      }
      passed++;
    }
    return passed;
  };
  /** ns per decision of one timed round of `ms`. */
  const round = (f: (input: DecisionInput) => number, ms: number) => {
    const deadline = performance.now() + ms;
    let calls = 0;
    const t0 = process.hrtime.bigint();
    while (performance.now() < deadline) {
      for (let k = 0; k < 1000; k++) sink += f(inputs[(calls + k) % inputs.length]);
      calls += 1000;
    }
    return Number(process.hrtime.bigint() - t0) / calls;
  };
  const engineRules = candidatesByAction(set);
  const variants: ((input: DecisionInput) => number)[] = steps.map((_, step) => (input) => run(step, input));
  variants.push((input) => {
    let n = 0;
    for (const rule of engineRules.get(input.action)!) if (rule.mismatch(input) === Mismatch.None) n++;
    return n;
  });
  for (const f of variants) round(f, 50); // warm-up
  // Rounds interleave the variants and each keeps its best: a shared machine's noise hits them alike.
  const best = variants.map(() => Infinity);
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    variants.forEach((f, i) => (best[i] = Math.min(best[i], round(f, maxMs / rounds / variants.length))));
  }
  const rows: string[][] = steps.map((label, step) => [
    label,
    fmtInt(best[step]),
    fmtInt(best[step] - (step === 0 ? 0 : best[step - 1])),
  ]);
  rows.push(['the real CompiledRule.mismatch() on every rule for the action', fmtInt(best[steps.length]), '']);
  return rows;
}

/** The decision rule of PolicyEngine (any deny; else any ask; else any allow; else the default), ids only. */
function outcome(set: PolicySet, matched: CompiledRule[] | null): { decision: string; ruleIds: string[] } {
  if (matched !== null) {
    for (const [effect, decision] of [
      ['deny', 'deny'],
      ['ask', 'pending'],
      ['allow', 'allow'],
    ] as const) {
      const ids = matched.filter((r) => r.rule.effect === effect).map((r) => r.id);
      if (ids.length > 0) return { decision, ruleIds: ids.sort() };
    }
  }
  return { decision: set.defaults.effect === 'ask' ? 'pending' : 'deny', ruleIds: [] };
}

/**
 * A prototype (in this bench only, not in src/) with the candidates as bitsets. Per action,
 * over that action's rules (rules for '*' included): one bitset per device group (and one
 * for rules on every device), and one per remote user (rules whose enterprise, user and
 * group globs match: built on first use for all actions, then cached). A decision ORs its
 * device's group bitsets, ANDs the user's, and checks the few rules left with the real
 * CompiledRule.mismatch() (target, time and state; the rest again).
 */
class BitsetEngine {
  private readonly actions = new Map<string, BitsetAction>();
  private readonly fallback: BitsetAction;
  private readonly totalWords: number;
  private readonly userGlobs: { enterprises: RegExp[] | null; users: RegExp[] | null; groups: RegExp[] | null }[];
  /** By user id: the bitsets of each (enterprise, groups) seen with it. */
  private readonly users = new Map<string, { enterprise: string | undefined; groups: string[]; bits: Uint32Array }[]>();
  private cachedUsers = 0;
  private readonly scratch: Uint32Array;

  constructor(private readonly set: PolicySet) {
    const rules = set.rules.map((r) => new CompiledRule(r));
    let offset = 0;
    const build = (applies: (rule: CompiledRule) => boolean): BitsetAction => {
      const own = rules.map((rule, k) => ({ rule, k })).filter(({ rule }) => applies(rule));
      const words = Math.ceil(own.length / 32);
      const anyDevice = new Uint32Array(words);
      const byGroup = new Map<string, Uint32Array>();
      own.forEach(({ rule }, j) => {
        for (const g of rule.rule.devices.includes('*') ? [null] : rule.rule.devices) {
          let bits = g === null ? anyDevice : byGroup.get(g);
          if (bits === undefined) byGroup.set(g!, (bits = new Uint32Array(words)));
          bits[j >>> 5] |= 1 << (j & 31);
        }
      });
      const entry = {
        rules: own.map((o) => o.rule),
        ruleIndex: own.map((o) => o.k),
        offset,
        words,
        anyDevice,
        byGroup,
      };
      offset += words;
      return entry;
    };
    for (const action of ACTION_CATALOGUE)
      this.actions.set(
        action,
        build((r) => r.allActions || r.actions.has(action)),
      );
    this.fallback = build((r) => r.allActions);
    this.totalWords = offset;
    this.scratch = new Uint32Array(Math.max(...[...this.actions.values(), this.fallback].map((a) => a.words)));
    const names = (list: string[] | undefined) => (list ? list.map((g) => compileGlob(g, 'name')) : null);
    this.userGlobs = rules.map((r) => ({
      enterprises: names(r.rule.remoteUsers?.enterprises),
      users: names(r.rule.remoteUsers?.users),
      groups: names(r.rule.remoteUsers?.groups),
    }));
  }

  private userBits(user: DecisionInput['remoteUser']): Uint32Array {
    const groups = user.groups ?? [];
    let seen = this.users.get(user.id);
    if (seen !== undefined) {
      for (const e of seen) {
        if (
          e.enterprise === user.enterprise &&
          e.groups.length === groups.length &&
          e.groups.every((g, i) => g === groups[i])
        ) {
          return e.bits;
        }
      }
    }
    const any = (patterns: RegExp[] | null, value: string | undefined) =>
      patterns === null || (value !== undefined && patterns.some((p) => p.test(value)));
    const ok = this.userGlobs.map(
      (g) =>
        any(g.enterprises, user.enterprise) &&
        any(g.users, user.id) &&
        (g.groups === null || groups.some((name) => any(g.groups, name))),
    );
    const bits = new Uint32Array(this.totalWords);
    for (const a of [...this.actions.values(), this.fallback]) {
      a.ruleIndex.forEach((k, j) => {
        if (ok[k]) bits[a.offset + (j >>> 5)] |= 1 << (j & 31);
      });
    }
    if (this.cachedUsers >= 20_000) {
      this.users.clear();
      this.cachedUsers = 0;
    }
    if (seen === undefined) this.users.set(user.id, (seen = []));
    seen.push({ enterprise: user.enterprise, groups: [...groups], bits });
    this.cachedUsers++;
    return bits;
  }

  decide(raw: DecisionInput): { decision: string; ruleIds: string[] } {
    const input = normalizedPath(raw);
    const a = this.actions.get(input.action) ?? this.fallback;
    const acc = this.scratch;
    const words = a.words;
    for (let i = 0; i < words; i++) acc[i] = a.anyDevice[i];
    for (const group of input.device.groups) {
      const bits = a.byGroup.get(group);
      if (bits !== undefined) for (let i = 0; i < words; i++) acc[i] |= bits[i];
    }
    const user = this.userBits(input.remoteUser);
    let matched: CompiledRule[] | null = null;
    for (let i = 0; i < words; i++) {
      let w = acc[i] & user[a.offset + i];
      while (w !== 0) {
        const low = w & -w;
        const rule = a.rules[i * 32 + 31 - Math.clz32(low)];
        if (rule.mismatch(input) === Mismatch.None) (matched ??= []).push(rule);
        w ^= low;
      }
    }
    return outcome(this.set, matched);
  }
}

interface BitsetAction {
  rules: CompiledRule[];
  /** Each rule's index in the whole set. */
  ruleIndex: number[];
  /** Where this action's words start in a user's bitset. */
  offset: number;
  words: number;
  anyDevice: Uint32Array;
  byGroup: Map<string, Uint32Array>;
}

/**
 * A prototype (in this bench only, not in src/) of an index by action AND device group:
 * a decision looks only at the rules naming one of the device's groups (or all devices),
 * evaluated with the real CompiledRule.mismatch(). Gives decision and rule ids only.
 */
class GroupIndexedEngine {
  private readonly byAction = new Map<string, { anyDevice: CompiledRule[]; byGroup: Map<string, CompiledRule[]> }>();
  private readonly fallback: { anyDevice: CompiledRule[]; byGroup: Map<string, CompiledRule[]> };

  constructor(private readonly set: PolicySet) {
    const rules = set.rules.map((r) => new CompiledRule(r));
    const index = (subset: CompiledRule[]) => {
      const byGroup = new Map<string, CompiledRule[]>();
      const anyDevice: CompiledRule[] = [];
      for (const rule of subset) {
        if (rule.rule.devices.includes('*')) anyDevice.push(rule);
        else for (const g of rule.rule.devices) byGroup.set(g, [...(byGroup.get(g) ?? []), rule]);
      }
      return { anyDevice, byGroup };
    };
    for (const action of ACTION_CATALOGUE) {
      this.byAction.set(action, index(rules.filter((r) => r.allActions || r.actions.has(action))));
    }
    this.fallback = index(rules.filter((r) => r.allActions));
  }

  decide(raw: DecisionInput): { decision: string; ruleIds: string[] } {
    const input = normalizedPath(raw);
    const entry = this.byAction.get(input.action) ?? this.fallback;
    let matched: CompiledRule[] | null = null;
    const consider = (rule: CompiledRule) => {
      if (rule.mismatch(input) === Mismatch.None && !(matched ??= []).includes(rule)) matched.push(rule);
    };
    for (const rule of entry.anyDevice) consider(rule);
    for (const group of input.device.groups) {
      const list = entry.byGroup.get(group);
      if (list !== undefined) for (const rule of list) consider(rule);
    }
    return outcome(this.set, matched);
  }
}

/** The engine's path normalisation (withNormalizedPath in policy-engine.ts, not exported), for the re-done checks. */
function normalizedPath(input: DecisionInput): DecisionInput {
  const path = input.target?.path;
  if (path === undefined || !/\/\.{1,2}(\/|$)|\/\/|\\/.test(path)) return input;
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  const safe = normalized.startsWith('..') ? '\u0000outside-root' : normalized;
  return { ...input, target: { ...input.target, path: safe } };
}

/**
 * engine.warmUp(now) when the engine has one (PolicyService calls it after compiling);
 * its duration in ms, NaN when there is none.
 */
function warmUp(engine: PolicyEngine, now: number): number {
  const f = (engine as unknown as { warmUp?: (now: number) => void }).warmUp;
  if (typeof f !== 'function') return NaN;
  const t0 = performance.now();
  f.call(engine, now);
  return performance.now() - t0;
}

/** A function that runs a full garbage collection, when V8 lets us have one. */
function gcFunction(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

async function inProcess(): Promise<boolean> {
  let failed = false;
  const gc = gcFunction();
  gc?.();
  const base = process.memoryUsage();

  // 1. Set size, load and compile.
  const rng = new Rng(SEED);
  const g0 = performance.now();
  const world = generateWorld(rng);
  const generateMs = performance.now() - g0;
  const bytes = world.sources.reduce((n, s) => n + Buffer.byteLength(s.text), 0);
  const lines = world.sources.reduce((n, s) => n + s.text.split('\n').length, 0);

  const l0 = performance.now();
  const loaded = loadPolicySources(world.sources);
  const loadMs = performance.now() - l0;
  if (!loaded.ok) {
    console.error(`FAILED: the generated policy set does not load (${loaded.problems.length} problems):`);
    for (const p of loaded.problems.slice(0, 10)) console.error(`  ${p.file}:${p.line}: ${p.message}`);
    summary.push({ target: 'generated policy set loads', measured: 'refused by the loader', verdict: 'FAILED' });
    return true;
  }
  const set = loaded.set;
  const c0 = performance.now();
  const engine = new PolicyEngine(set);
  const compileMs = performance.now() - c0;
  const warmUpMs = warmUp(engine, FIRST_CLOCK);
  const d0 = performance.now();
  const grouper = new DeviceGrouper(set.deviceGroups);
  const grouperMs = performance.now() - d0;
  const s0 = performance.now();
  const groupSets = world.devices.map((d) => grouper.groupsOf(d));
  const groupingMs = performance.now() - s0;

  const perAction = candidatesByAction(set);
  const candidates = [...perAction.values()].reduce((n, list) => n + list.length, 0) / perAction.size;
  const effects = (e: string) => set.rules.filter((r) => r.effect === e).length;
  const zones = ZONES.map((z) => `${z} ${set.rules.filter((r) => r.when?.timezone === z).length}`).join(', ');
  const groupSizes = groupSets.map((g) => g.size);
  const ungrouped = groupSizes.filter((n) => n === 0).length;

  console.log('\n1. Policy set size, load and compile\n');
  console.log(
    table([
      ['what', 'size'],
      ['policy files (YAML)', `${world.sources.length} files, ${fmtInt(bytes)} bytes, ${fmtInt(lines)} lines`],
      [
        'rules',
        `${fmtInt(set.rules.length)}: allow ${effects('allow')}, ask ${effects('ask')}, deny ${effects('deny')}`,
      ],
      ['rules with time windows or dates, by zone', zones],
      ['rules with deviceState conditions', fmtInt(set.rules.filter((r) => r.when?.deviceState).length)],
      [
        'rules for every action (*) / every device (*)',
        `${set.rules.filter((r) => r.actions.includes('*')).length} / ${set.rules.filter((r) => r.devices.includes('*')).length}`,
      ],
      ["rules for a request's action (average over the 8 actions)", candidates.toFixed(0)],
      ['device groups', `${set.deviceGroups.length} (model and site globs, explicit members)`],
      [
        'devices',
        `${fmtInt(DEVICES)}: ${(groupSizes.reduce((a, b) => a + b, 0) / DEVICES).toFixed(2)} groups each on average, ${ungrouped} in none`,
      ],
      [
        'remote users',
        `${fmtInt(ENTERPRISES * USERS_PER_ENTERPRISE)} (${ENTERPRISES} enterprises x ${USERS_PER_ENTERPRISE})`,
      ],
    ]),
  );
  console.log('');
  console.log(
    table([
      ['step', 'ms', 'target'],
      ['generate the YAML text (bench only)', fmtMs(generateMs, 1), ''],
      ['loadPolicySources: parse + validate + build set', fmtMs(loadMs, 1), ''],
      ['new PolicyEngine(set): compile', fmtMs(compileMs, 1), `< ${TARGET_COMPILE_MS} ms`],
      [
        'engine.warmUp(now), as PolicyService calls it',
        Number.isNaN(warmUpMs) ? '(none)' : fmtMs(warmUpMs, 1),
        Number.isNaN(warmUpMs) ? '(the engine has no warmUp)' : '',
      ],
      ['new DeviceGrouper(set.deviceGroups)', fmtMs(grouperMs, 1), ''],
      [
        `grouper.groupsOf() for ${fmtInt(DEVICES)} devices`,
        fmtMs(groupingMs, 1),
        `(${fmtMs((groupingMs * 1000) / DEVICES, 1)} µs each)`,
      ],
    ]),
  );
  summary.push({
    target: `compile (new PolicyEngine) < ${TARGET_COMPILE_MS} ms`,
    measured: `${fmtMs(compileMs, 1)} ms (+ grouper ${fmtMs(grouperMs, 1)} ms; load ${fmtMs(loadMs, 0)} ms)`,
    verdict: meets(compileMs < TARGET_COMPILE_MS),
  });

  // 3. Memory (printed after the latency, measured now: set, engine, grouper and groups only).
  gc?.();
  const mem = process.memoryUsage();

  // 2. Latency.
  const inputs = makeInputs(rng, world, groupSets, INPUT_POOL);
  gc?.();
  const memInputs = process.memoryUsage();

  // The first calls after compiling, as a server sees them: its clock runs on from the
  // compile instant (10 ms between requests here).
  const firstInputs = inputs.slice(0, 2 * FIRST_CALLS).map((input, k) => {
    const now = FIRST_CLOCK + (k % FIRST_CALLS) * 10;
    const age = input.device.stateReportedAt === null ? null : input.now - input.device.stateReportedAt;
    return { ...input, now, device: { ...input.device, stateReportedAt: age === null ? null : now - age } };
  });
  const firstCalls = (e: PolicyEngine, list: DecisionInput[]) => {
    const samples = new Samples();
    for (const input of list) {
      const t0 = process.hrtime.bigint();
      sink += e.decide(input).ruleIds.length;
      samples.push(Number(process.hrtime.bigint() - t0));
    }
    const sorted = samples.sorted();
    return {
      sorted,
      max: sorted[sorted.length - 1],
      over: sorted.filter((v) => v > TARGET_FIRST_MS * 1e6).length,
    };
  };
  const t0 = process.hrtime.bigint();
  sink += engine.decide(firstInputs[0]).ruleIds.length;
  const firstNs = Number(process.hrtime.bigint() - t0);
  const cold = firstCalls(engine, firstInputs.slice(1, FIRST_CALLS));
  const firstMax = Math.max(firstNs, cold.max);
  const firstOver = cold.over + (firstNs > TARGET_FIRST_MS * 1e6 ? 1 : 0);

  // A re-compile in a warm process (a policy reload): compile, warmUp, first calls again.
  const engine2 = new PolicyEngine(set);
  warmUp(engine2, FIRST_CLOCK);
  const r0 = process.hrtime.bigint();
  sink += engine2.decide(firstInputs[FIRST_CALLS]).ruleIds.length;
  const reloadFirst = Number(process.hrtime.bigint() - r0);
  const reload = firstCalls(engine2, firstInputs.slice(FIRST_CALLS + 1));

  // Cold zone lookups: what the first instant in a new offset period costs, per zone.
  const zoneCold = ZONES.map((zone) => {
    const cache = new ZoneOffsetCache(zone);
    const t0 = process.hrtime.bigint();
    sink += cache.localMinuteAt(YEAR_START + 200 * DAY_MS);
    return `${zone} ${fmtMs(Number(process.hrtime.bigint() - t0) / 1e6, 2)} ms`;
  });

  const timer = timerOverheadNs();
  const decide: Decide = (input) => engine.decide(input);
  const warm = timeBatches(decide, inputs, 500_000, 1000);
  sink += warm.calls;
  const each = timeEach(decide, inputs, CALLS, SECONDS * 1000);
  const eachP = percentiles(each.samples);
  const batches = timeBatches(decide, inputs, CALLS, Math.min(SECONDS, 3) * 1000);
  const byTime = [...inputs].sort((a, b) => a.now - b.now);
  const ordered = percentiles(timeEach(decide, byTime, CALLS, Math.min(SECONDS, 2) * 1000).samples);
  gc?.();
  const memRuns = process.memoryUsage();

  console.log(`\n2. decide() latency in this process (one core), ${fmtInt(INPUT_POOL)} pre-generated random inputs\n`);
  console.log(
    `Timing: each call between two process.hrtime.bigint() reads (one read pair costs ~${fmtInt(timer)} ns, ` +
      'included in the per-call figures); the mean is also taken over batches of 1,000 calls (no per-call timer).',
  );
  console.log(
    table([
      ['run', 'calls', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'mean µs', 'decisions/s'],
      [
        'each call timed, random instants over 2026',
        fmtInt(each.calls),
        fmtUs(eachP.p50),
        fmtUs(eachP.p99),
        fmtUs(eachP.p999),
        fmtUs(eachP.max, 0),
        fmtUs(eachP.mean),
        fmtInt(each.calls / each.seconds),
      ],
      [
        'batches of 1,000 (mean only)',
        fmtInt(batches.calls),
        '',
        '',
        '',
        '',
        fmtUs(batches.meanNs),
        fmtInt(1e9 / batches.meanNs),
      ],
      [
        'each call timed, instants in clock order',
        '',
        fmtUs(ordered.p50),
        fmtUs(ordered.p99),
        fmtUs(ordered.p999),
        fmtUs(ordered.max, 0),
        fmtUs(ordered.mean),
        '',
      ],
      [
        `first ${FIRST_CALLS} calls after compile (cold; clock from the compile instant)`,
        fmtInt(FIRST_CALLS),
        fmtUs(percentile(cold.sorted, 50)),
        fmtUs(percentile(cold.sorted, 99)),
        '',
        fmtUs(firstMax, 0),
        '',
        '',
      ],
      [
        `first ${FIRST_CALLS} calls after a re-compile (warm process)`,
        fmtInt(FIRST_CALLS),
        fmtUs(percentile(reload.sorted, 50)),
        fmtUs(percentile(reload.sorted, 99)),
        '',
        fmtUs(Math.max(reloadFirst, reload.max), 0),
        '',
        '',
      ],
    ]),
  );
  console.log(
    `First call after compile: ${fmtUs(firstNs)} µs; of the first ${FIRST_CALLS}, ${firstOver} took over ` +
      `${TARGET_FIRST_MS} ms. First call after a re-compile: ${fmtUs(reloadFirst)} µs.`,
  );
  console.log(
    `A zone's first lookup of an instant outside its cached offset periods (Intl probing): ${zoneCold.join(', ')}`,
  );

  summary.push({
    target: `decide() p50 < ${fmtUs(TARGET_P50_NS, 0)} µs`,
    measured: `${fmtUs(eachP.p50)} µs (batch mean ${fmtUs(batches.meanNs)} µs, ${fmtInt(1e9 / batches.meanNs)}/s on one core)`,
    verdict: meets(eachP.p50 < TARGET_P50_NS),
  });
  summary.push({
    target: `decide() p99 < ${fmtUs(TARGET_P99_NS, 0)} µs`,
    measured: `${fmtUs(eachP.p99)} µs (p99.9 ${fmtUs(eachP.p999)} µs, max ${fmtUs(eachP.max, 0)} µs)`,
    verdict: meets(eachP.p99 < TARGET_P99_NS),
  });
  summary.push({
    target: `no first call after compile over ${TARGET_FIRST_MS} ms`,
    measured: `first ${fmtUs(firstNs)} µs, max of first ${FIRST_CALLS} ${fmtUs(firstMax, 0)} µs (${firstOver} over)`,
    verdict: meets(firstOver === 0),
  });

  // Correctness: decide() against a full scan of every rule, in another order of instants.
  const sample = inputs.slice(0, CHECK_SAMPLE);
  const got = sample.map((input) => engine.decide(input));
  const errors = got.reduce((n, d) => n + d.errors.length, 0);
  const order = range(sample.length).sort((a, b) => sample[a].now - sample[b].now);
  let mismatches = 0;
  let firstMismatch = '';
  for (const i of order) {
    const want = fullScan(engine, sample[i]);
    const d = got[i];
    if (d.decision !== want.decision || d.ruleIds.join() !== want.ruleIds.join()) {
      mismatches++;
      firstMismatch ||= `input ${i}: decide() ${d.decision} [${d.ruleIds.join()}], full scan ${want.decision} [${want.ruleIds.join()}]`;
    }
  }
  const count = (f: (d: (typeof got)[number]) => boolean) => got.filter(f).length;
  const share = (n: number) => `${((n / got.length) * 100).toFixed(1)}%`;
  console.log(
    `\nDecisions on ${fmtInt(CHECK_SAMPLE)} inputs: allow ${share(count((d) => d.decision === 'allow'))}, ` +
      `pending ${share(count((d) => d.decision === 'pending'))}, deny by a rule ${share(count((d) => d.decidedBy === 'deny'))}, ` +
      `deny by default ${share(count((d) => d.decidedBy === 'default'))}; rules failing to evaluate: ${errors}`,
  );
  console.log(
    `Check against a full scan of all ${fmtInt(set.rules.length)} rules (explain(), instants in clock order): ` +
      (mismatches === 0 ? 'identical' : `${mismatches} DIFFER, e.g. ${firstMismatch}`),
  );
  const correct = mismatches === 0 && errors === 0;
  if (!correct) failed = true;
  summary.push({
    target: 'decide() = full scan of every rule, no rule errors',
    measured: `${fmtInt(CHECK_SAMPLE)} inputs: ${mismatches} differ, ${errors} errors`,
    verdict: holds(correct),
  });

  // Where the time goes.
  const short = eachP.p50 >= TARGET_P50_NS || eachP.p99 >= TARGET_P99_NS || firstOver > 0;
  if (PROFILE === 'on' || (PROFILE === 'auto' && short)) {
    console.log('\nWhere the time goes\n');
    const exits = new Map<string, number>();
    let evaluated = 0;
    for (const input of sample) {
      for (const rule of perAction.get(input.action)!) {
        const name = Mismatch[rule.mismatch(normalizedPath(input))];
        exits.set(name, (exits.get(name) ?? 0) + 1);
        evaluated++;
      }
    }
    console.log(
      `Rules for the request's action: ${(evaluated / sample.length).toFixed(0)} per decision; where the real ` +
        `CompiledRule.mismatch() stops on them (first condition that fails): ${[...exits.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k} ${((n / evaluated) * 100).toFixed(1)}%`)
          .join(', ')}`,
    );
    console.log('\nCPU profile of 2 s of decide() calls (V8 sampling profiler, 100 µs):\n');
    console.log(await cpuProfile(() => timeBatches(decide, inputs, Infinity, 2000)));
    console.log(
      "\nCost per decision by kind of condition, checked in the engine's order over every rule for the action (ns):\n",
    );
    const costs = conditionCosts(set, inputs.map(normalizedPath), 3500);
    const decideMean = timeBatches(decide, inputs, Infinity, 500).meanNs;
    console.log(
      table([['step', 'cumulative ns', 'step adds ns'], ...costs, ['decide() (whole call)', fmtInt(decideMean), '']]),
    );
    console.log(
      `(${(groupSizes.reduce((a, b) => a + b, 0) / DEVICES).toFixed(2)} groups per device; grouping itself is not in ` +
        `decide(): grouper.groupsOf() costs ${fmtMs((groupingMs * 1000) / DEVICES, 1)} µs per device, cached per device ` +
        'and policy version by DecisionsService)',
    );

    // Prototypes: first calls on a fresh instance, then warm; decisions compared with decide().
    const prototypes: [string, () => Decide][] = [
      [
        'PolicyEngine.decide() (src/, a fresh instance)',
        () => {
          const e = new PolicyEngine(set);
          return (input) => e.decide(input);
        },
      ],
      [
        'index by action and device group, then CompiledRule.mismatch()',
        () => {
          const p = new GroupIndexedEngine(set);
          return (input) => p.decide(input);
        },
      ],
      [
        'bitsets: action x device group, AND remote user, then mismatch()',
        () => {
          const p = new BitsetEngine(set);
          return (input) => p.decide(input);
        },
      ],
    ];
    const protoRows = prototypes.map(([label, make]) => {
      const c0 = performance.now();
      const f = make();
      const buildMs = performance.now() - c0;
      const firsts = new Samples();
      for (const input of inputs.slice(0, FIRST_CALLS)) {
        const t0 = process.hrtime.bigint();
        sink += f(input).ruleIds.length;
        firsts.push(Number(process.hrtime.bigint() - t0));
      }
      let differ = 0;
      for (const input of sample) {
        const a = f(input);
        const b = engine.decide(input);
        if (a.decision !== b.decision || a.ruleIds.join() !== b.ruleIds.join()) differ++;
      }
      timeBatches(f, inputs, 500_000, 500);
      const p = percentiles(timeEach(f, inputs, CALLS, Math.min(SECONDS, 2) * 1000).samples);
      const mean = timeBatches(f, inputs, CALLS, 1000).meanNs;
      // The same calls with fewer distinct inputs (devices, users): how much is cache misses.
      const one = timeBatches(f, inputs.slice(0, 1), CALLS, 300).meanNs;
      const thousand = timeBatches(f, inputs.slice(0, 1000), CALLS, 300).meanNs;
      const firstSorted = firsts.sorted();
      if (differ > 0) console.log(`  ${label}: ${differ} decisions differ from decide() (a bug in the prototype)`);
      return [
        label,
        fmtMs(buildMs, 1),
        fmtUs(firstSorted[firstSorted.length - 1], 0),
        fmtUs(p.p50),
        fmtUs(p.p99),
        fmtUs(mean),
        fmtInt(1e9 / mean),
        fmtUs(thousand),
        fmtUs(one),
        `${fmtInt(sample.length - differ)} / ${fmtInt(sample.length)}`,
      ];
    });
    console.log('\nPrototypes in this bench (not in src/), evaluated with the real CompiledRule.mismatch():\n');
    console.log(
      table([
        [
          'candidates',
          'build ms',
          `max of first ${FIRST_CALLS} µs`,
          'p50 µs',
          'p99 µs',
          'mean µs',
          'decisions/s',
          'mean µs, 1,000 inputs',
          'mean µs, 1 input',
          'same as decide()',
        ],
        ...protoRows,
      ]),
    );
    console.log(
      `(each built fresh in this warm process; the first calls include filling per-user caches where there are any; ` +
        `p50 to mean over the ${fmtInt(INPUT_POOL)} random inputs, then the mean cycling through 1,000 of them and ` +
        'repeating one: the difference is the cost of cache misses on devices, users and rules)',
    );
  } else {
    console.log(
      `\n(Profile skipped: ${PROFILE === 'off' ? '--profile=off' : 'the latency targets are met; --profile=on to force'})`,
    );
  }

  console.log('\n3. Resident memory after loading, compiling and grouping the devices\n');
  console.log(
    table([
      ['when', 'rss MB', 'heapUsed MB', 'heapTotal MB', 'external MB'],
      ['at start (after imports)', MB(base.rss), MB(base.heapUsed), MB(base.heapTotal), MB(base.external)],
      [
        `set + engine + grouper + ${fmtInt(DEVICES)} group sets`,
        MB(mem.rss),
        MB(mem.heapUsed),
        MB(mem.heapTotal),
        MB(mem.external),
      ],
      ['difference', MB(mem.rss - base.rss), MB(mem.heapUsed - base.heapUsed), '', ''],
      [
        `later: + ${fmtInt(INPUT_POOL)} bench inputs`,
        MB(memInputs.rss),
        MB(memInputs.heapUsed),
        MB(memInputs.heapTotal),
        MB(memInputs.external),
      ],
      [
        "later: after the latency runs (the engine's caches filled)",
        MB(memRuns.rss),
        MB(memRuns.heapUsed),
        MB(memRuns.heapTotal),
        MB(memRuns.external),
      ],
    ]),
  );
  console.log(
    gc
      ? '(measured after a full garbage collection; the YAML text and the generated world are still held)'
      : '(no garbage collection available: figures include garbage)',
  );
  summary.push({
    target: `resident memory < ${TARGET_RSS_MB} MB`,
    measured: `rss ${MB(mem.rss)} MB, heapUsed ${MB(mem.heapUsed)} MB`,
    verdict: meets(mem.rss < TARGET_RSS_MB * 1024 * 1024),
  });
  return failed;
}

// ---------------------------------------------------------------------------------------
// HTTP: the real Gatehouse on PostgreSQL, and a bare node:http server with the same load.

const DECISIONS_PATH = '/api/v1/agent/decisions';
const REMOTE_USER = { id: 'fse.bench@acme.example', enterprise: 'acme-medical', groups: ['tier2'] };
/** About the size of Gatehouse's answer to the same request. */
const BARE_ANSWER = JSON.stringify({
  requestId: '00000000-0000-4000-8000-000000000000',
  decision: 'allow',
  status: 'allowed',
  reason: 'Allowed by acme-log-uploads',
  policies: ['acme-log-uploads'],
  validUntil: '2026-06-01T12:10:00.000Z',
});

/** The agent's request: log-upload for an Acme engineer, allowed by acme-log-uploads at any time. */
function decisionBody(requestId: string): string {
  return JSON.stringify({
    requestId,
    action: 'log-upload',
    remoteUser: REMOTE_USER,
    context: { ticket: 'CS-1234', reason: 'Collect logs for a service call' },
  });
}

/** Child mode: the bare server. It parses the body as a framework would, and answers BARE_ANSWER. */
function serveBare(): void {
  const server = bareJsonServer(DECISIONS_PATH, BARE_ANSWER);
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
  // If the parent goes away, so does the server.
  process.on('disconnect', () => process.exit(0));
}

/** A server in a child process that this bench started: its output is kept, not printed. */

async function startBare(): Promise<{ server: ServerChild; port: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-bare'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const server = new ServerChild(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare server did not start in time')), 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`the bare server exited (code ${code}): ${server.tail()}`)));
  });
  return { server, port };
}

/** What the answers of one load were. Request ids are tracked when `pending` is given. */
interface Tally {
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
type LoadKind = 'decision' | 'health';

function load(
  url: string,
  credentials: string[],
  seconds: number,
  tally: Tally,
  kind: LoadKind = 'decision',
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

interface HttpRun {
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

async function measure(
  label: string,
  url: string,
  credentials: string[],
  serverPid: number | undefined,
  pgPids: () => Promise<number[]>,
  pending: Set<string> | null,
  kind: LoadKind = 'decision',
): Promise<HttpRun> {
  const warm = newTally(pending, false);
  await load(url, credentials, WARMUP_SECONDS, warm, kind);
  const pids = await pgPids();
  const measured = newTally(pending, true);
  const c0 = cpuSnapshot(serverPid, pids);
  const w0 = Number(process.hrtime.bigint() / 1000n);
  const result = await load(url, credentials, HTTP_SECONDS, measured, kind);
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

async function httpPart(): Promise<boolean> {
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
  const bare = await startBare();
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
      const enrollment = await call(base, 'POST', '/api/v1/enrollment-tokens', {
        token: staffToken,
        body: { expiresInHours: 1, maxUses: Math.max(100, CONNECTIONS) },
      });
      if (enrollment.status !== 201) {
        throw new Error(`enrollment token: ${enrollment.status} ${JSON.stringify(enrollment.body)}`);
      }
      const credentials: string[] = [];
      for (let i = 0; i < CONNECTIONS; i++) {
        const res = await call(base, 'POST', '/api/v1/agent/enroll', {
          token: enrollment.body.token as string,
          body: { deviceId: `bench-ct-${pad(i, 3)}`, model: 'SOMATOM X.cite', site: 'Main campus' },
        });
        if (res.status !== 201) throw new Error(`enroll: ${res.status} ${JSON.stringify(res.body)}`);
        credentials.push(res.body.credential as string);
      }

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

// ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  console.log(
    `Policy decision benchmark: ${fmtInt(RULES)} rules, ${GROUPS} device groups, ${fmtInt(DEVICES)} devices, ` +
      `${fmtInt(ENTERPRISES * USERS_PER_ENTERPRISE)} remote users (seed ${SEED.toString(16)})`,
  );
  console.log(
    `Machine: ${availableParallelism()} CPUs, Node ${process.version}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  let failed = await inProcess();
  const httpTargets = Object.values(HTTP_TARGETS);
  if (HTTP === 'off' || aborted) {
    for (const target of httpTargets) {
      summary.push({ target, measured: aborted ? 'interrupted' : '--http=off', verdict: 'NOT MEASURED' });
    }
  } else {
    try {
      failed = (await httpPart()) || failed;
    } catch (error) {
      failed = true;
      console.error(`\n4. HTTP: FAILED: ${(error as Error).message}`);
      for (const target of httpTargets) summary.push({ target, measured: 'failed to run', verdict: 'NOT MEASURED' });
    }
  }

  console.log('\nSummary\n');
  console.log(table([['target', 'measured', 'verdict'], ...summary.map((s) => [s.target, s.measured, s.verdict])]));
  console.log(
    `\n(load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}: other work on this machine shares the CPUs with the bench)`,
  );
  if (failed) console.error('\nFAILED: a correctness check failed or a part could not run');
  if (aborted) console.error('\nInterrupted: results are incomplete');
  if (sink === -1) console.log(''); // the sink is read, so no timed call is dead code
  return failed || aborted ? 1 : 0;
}

if (process.argv.includes('--serve-bare')) {
  serveBare();
} else {
  runBench(main);
}
