/** The correctness check: decide() against a full scan of every rule (explain()). */
import type { DecisionInput } from '../../src/policies/engine/decision.types.js';
import type { PolicyEngine } from '../../src/policies/engine/policy-engine.js';
import type { PolicySet } from '../../src/policies/policy.types.js';
import { fmtInt } from '../bench-util.js';
import { CHECK_SAMPLE } from './options.js';
import { holds, summary } from './summary.js';
import { range } from './world.js';

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

/**
 * decide() on the first CHECK_SAMPLE inputs against a full scan of every rule; prints the
 * decisions' shares and the outcome, adds the line to the summary. `sample`: the inputs checked.
 */
export function checkAgainstFullScan(
  engine: PolicyEngine,
  set: PolicySet,
  inputs: DecisionInput[],
): { sample: DecisionInput[]; correct: boolean } {
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
  summary.push({
    target: 'decide() = full scan of every rule, no rule errors',
    measured: `${fmtInt(CHECK_SAMPLE)} inputs: ${mismatches} differ, ${errors} errors`,
    verdict: holds(correct),
  });
  return { sample, correct };
}
