/**
 * "Where the time goes" (run when the latency targets are missed, or with --profile=on):
 * where CompiledRule.mismatch() stops, a CPU profile of decide(), the cost of each kind of
 * condition, and the prototype indexes of prototype-engines.ts.
 */
import { performance } from 'node:perf_hooks';
import { CompiledRule, Mismatch } from '../../src/policies/engine/compiled-rule.js';
import type { DecisionInput } from '../../src/policies/engine/decision.types.js';
import { PolicyEngine } from '../../src/policies/engine/policy-engine.js';
import type { PolicySet } from '../../src/policies/policy.types.js';
import { fmtInt, fmtMs, Samples, table } from '../bench-util.js';
import { conditionCosts, normalizedPath } from './condition-costs.js';
import { cpuProfile } from './cpu-profile.js';
import { CALLS, DEVICES, FIRST_CALLS, INPUT_POOL, SECONDS } from './options.js';
import { BitsetEngine, GroupIndexedEngine } from './prototype-engines.js';
import { type Decide, fmtUs, percentiles, timeBatches, timeEach } from './timing.js';

/** Keeps results alive so that the timed calls cannot be optimised away. */
let sink = 0;

/** What the in-process part measured that the breakdown looks into. */
export interface Measured {
  set: PolicySet;
  engine: PolicyEngine;
  inputs: DecisionInput[];
  /** The inputs of the full-scan check. */
  sample: DecisionInput[];
  perAction: Map<string, CompiledRule[]>;
  decide: Decide;
  groupSizes: number[];
  groupingMs: number;
}

export async function whereTheTimeGoes({
  set,
  engine,
  inputs,
  sample,
  perAction,
  decide,
  groupSizes,
  groupingMs,
}: Measured): Promise<void> {
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
}

/** The sink's value (read at the end of the run). */
export const sunk = (): number => sink;
