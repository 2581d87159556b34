/** The engine's checks re-done in this bench: the candidate rules per action, and what each kind of condition costs. */
import { posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CompiledRule, Mismatch } from '../../src/policies/engine/compiled-rule.js';
import type { DecisionInput } from '../../src/policies/engine/decision.types.js';
import { ACTION_CATALOGUE, compileGlob } from '../../src/policies/policy-schema.js';
import type { PolicySet } from '../../src/policies/policy.types.js';
import { fmtInt } from '../bench-util.js';

/** Keeps results alive so that the timed calls cannot be optimised away. */
let sink = 0;

/** The rules for each action (rules for '*' included), compiled afresh from the set. */
export function candidatesByAction(set: PolicySet): Map<string, CompiledRule[]> {
  const rules = set.rules.map((r) => new CompiledRule(r));
  return new Map(ACTION_CATALOGUE.map((a) => [a, rules.filter((r) => r.allActions || r.actions.has(a))]));
}

/** The engine's path normalisation (withNormalizedPath in policy-engine.ts, not exported), for the re-done checks. */
export function normalizedPath(input: DecisionInput): DecisionInput {
  const path = input.target?.path;
  if (path === undefined || !/\/\.{1,2}(\/|$)|\/\/|\\/.test(path)) return input;
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  const safe = normalized.startsWith('..') ? '\u0000outside-root' : normalized;
  return { ...input, target: { ...input.target, path: safe } };
}

/**
 * The engine's checks re-done step by step (same order, same early exits, the same
 * compiled globs and time windows), each step adding one kind of condition: the
 * differences say what each kind costs per decision.
 */
export function conditionCosts(set: PolicySet, inputs: DecisionInput[], maxMs: number): string[][] {
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

/** The sink's value (read at the end of the run). */
export const sunk = (): number => sink;
