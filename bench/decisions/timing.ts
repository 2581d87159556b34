/** The timed loops of the in-process part, and how their samples are summed up. */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';
import type { DecisionInput } from '../../src/policies/engine/decision.types.js';
import { percentile, Samples } from '../bench-util.js';

export const fmtUs = (ns: number, digits = 2): string => (Number.isFinite(ns) ? (ns / 1000).toFixed(digits) : 'n/a');

export type Decide = (input: DecisionInput) => { decision: string; ruleIds: string[] };

/** Keeps results alive so that the timed calls cannot be optimised away. */
let sink = 0;

/** Each call timed on its own with process.hrtime.bigint(); bounded by calls and wall time. */
export function timeEach(decide: Decide, inputs: DecisionInput[], maxCalls: number, maxMs: number) {
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

/** The garbage collections V8 ran during a timed window: how many of each kind, and their time. */
export interface Collections {
  /** By V8's name: Scavenge (young generation), MarkSweepCompact (full), IncrementalMarking, … */
  byKind: Record<string, number>;
  count: number;
  totalMs: number;
}

/** Runs `fn` and reports the collections that ran meanwhile (v8.GCProfiler: read synchronously). */
export function collectionsDuring<T>(fn: () => T): { result: T; collections: Collections } {
  const profiler = new GCProfiler();
  profiler.start();
  const result = fn();
  const byKind: Record<string, number> = {};
  let costUs = 0;
  for (const gc of profiler.stop().statistics) {
    byKind[gc.gcType] = (byKind[gc.gcType] ?? 0) + 1;
    costUs += gc.cost;
  }
  const count = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { result, collections: { byKind, count, totalMs: costUs / 1000 } };
}

export const describeCollections = (c: Collections): string =>
  c.count === 0
    ? 'none'
    : `${c.count} (${Object.entries(c.byKind)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ')}; ${c.totalMs.toFixed(1)} ms in all)`;

/**
 * Bytes decide() allocates per call: the growth of V8's young generation over `calls` calls
 * in a row, taken from a run with no scavenge in it (a deterministic measure, unlike time,
 * on a busy machine). NaN when every try saw a scavenge.
 */
export function bytesPerCall(decide: Decide, inputs: DecisionInput[], calls = 2000): number {
  const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? NaN;
  const runs: number[] = [];
  for (let start = 0; runs.length < 5 && start + calls <= inputs.length; start += calls) {
    const before = young();
    for (let k = 0; k < calls; k++) sink += decide(inputs[start + k]).ruleIds.length;
    const after = young();
    // A scavenge empties the young generation: the difference is then not what was allocated.
    if (after > before) runs.push((after - before) / calls);
  }
  runs.sort((a, b) => a - b);
  return runs.length === 0 ? NaN : runs[Math.floor(runs.length / 2)];
}

export const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Batches of calls between two clock reads: the mean cost without the timer's. */
export function timeBatches(decide: Decide, inputs: DecisionInput[], maxCalls: number, maxMs: number, batch = 1000) {
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
export function timerOverheadNs(): number {
  const samples = new Samples();
  for (let i = 0; i < 200_000; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    samples.push(Number(t1 - t0));
  }
  return percentile(samples.sorted(), 50);
}

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function percentiles(samples: Samples): Percentiles {
  return percentilesOf(samples.sorted());
}

/**
 * p99 of each of `parts` consecutive stretches of the samples: a collection or another
 * process taking the core moves the p99 of its stretch, and the spread shows it.
 */
export function p99OfParts(samples: Samples, parts: number): number[] {
  const all = samples.inOrder();
  const size = Math.floor(all.length / parts);
  return Array.from({ length: parts }, (_, k) => percentile(all.slice(k * size, (k + 1) * size).sort(), 99));
}

function percentilesOf(sorted: Float64Array): Percentiles {
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

/** The sink's value (read at the end of the run). */
export const sunk = (): number => sink;
