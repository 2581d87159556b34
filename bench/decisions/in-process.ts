/**
 * The in-process part (sections 1 to 3): generate, load and compile the policy set, then
 * decide() latency, the full-scan check, and memory.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeviceGrouper } from '../../src/policies/engine/device-groups.js';
import { PolicyEngine } from '../../src/policies/engine/policy-engine.js';
import { loadPolicySources } from '../../src/policies/policy-loader.js';
import { ACTION_CATALOGUE } from '../../src/policies/policy-schema.js';
import { fmtInt, fmtMs, table } from '../bench-util.js';
import { checkAgainstFullScan } from './full-scan-check.js';
import { measureLatency, sunk as latencySunk } from './latency.js';
import {
  DEVICES,
  ENTERPRISES,
  INPUT_POOL,
  SEED,
  TARGET_COMPILE_MS,
  TARGET_RSS_MB,
  USERS_PER_ENTERPRISE,
  ZONES,
} from './options.js';
import { meets, summary } from './summary.js';
import { sunk as timingSunk } from './timing.js';
import { generateWorld, makeInputs, Rng } from './world.js';

const MB = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

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

/** Sections 1 to 3; true when a correctness check failed. */
export function inProcess(): boolean {
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
  const d0 = performance.now();
  const grouper = new DeviceGrouper(set.deviceGroups);
  const grouperMs = performance.now() - d0;
  const s0 = performance.now();
  const groupSets = world.devices.map((d) => grouper.groupsOf(d));
  const groupingMs = performance.now() - s0;

  const actions = ACTION_CATALOGUE;
  const perAction = actions.map(
    (a) => set.rules.filter((r) => r.actions.includes('*') || r.actions.includes(a)).length,
  );
  const candidates = perAction.reduce((a, b) => a + b, 0) / actions.length;
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
  const { memRuns } = measureLatency(engine, set, inputs, gc);

  const { correct } = checkAgainstFullScan(engine, set, inputs);
  if (!correct) failed = true;

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

/** The sum of the sinks that keep the timed calls' results alive: read once at the end, so none is dead code. */
export const sunk = (): number => timingSunk() + latencySunk();
