/** The timed loops of the in-process part, and how their samples are summed up. */
import { performance } from 'node:perf_hooks';
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

/** The sink's value (read at the end of the run). */
export const sunk = (): number => sink;
