import { posix } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadPolicySources } from '../policy-loader.js';
import type { ApprovalSettings, PolicyRule, PolicySet } from '../policy.types.js';
import { compileGlob } from '../globs.js';
import { compileWhen } from '../time-window.js';
import type { DecisionInput, EngineDecision } from './decision.types.js';
import { PolicyEngine } from './policy-engine.js';

/**
 * decide() asks each remote user's CASL ability, whose rules carry compiled conditions
 * (rule-operators.ts); these properties hold it, and explain(), to the plain reading of the
 * rules: every rule checked here without CASL, then the precedence, ids, windowEnd and
 * approval merge.
 */

const ACTIONS = ['remote-session', 'log-upload', 'software-install', 'x-custom'];
const GROUPS = ['ct', 'mr', 'lab'];
const ENTERPRISE_GLOBS = ['acme', 'globex', 'ac*', 'a?me', 'glob[e]x', '*globex'];
const USER_GLOBS = ['*@acme.example', 'u1@acme.example', 'u?@globex.example', 'u[12]*', '*', 'U1@acme.example'];
const GROUP_GLOBS = ['tier1', 'tier*', 'ops', '*-lead'];
// Listed out of order, so that the answer's sorted ids differ from policy order.
const IDS = ['r-10', 'r-9', 'r.1', 'a', 'r_2', '9', 'r-2', 'z', 'r-1', '1a'];

const sub = <T>(items: T[]) => fc.subarray(items, { minLength: 1 });
const ruleArb = fc.record(
  {
    effect: fc.constantFrom('allow', 'allow', 'ask', 'deny'),
    actions: fc.oneof(fc.constant(['*']), sub(ACTIONS)),
    devices: fc.oneof(fc.constant(['*']), sub(GROUPS)),
    remoteUsers: fc.record(
      { enterprises: sub(ENTERPRISE_GLOBS), users: sub(USER_GLOBS), groups: sub(GROUP_GLOBS) },
      { requiredKeys: [] },
    ),
    target: fc.oneof(
      fc.record({ paths: sub(['/var/log/**', '/data/*.dcm']) }),
      fc.record({ packages: sub(['pkg-*', 'tools']) }),
    ),
    when: fc.oneof(
      fc.constant({ timezone: 'Europe/Paris', windows: [{ days: ['mon', 'tue', 'wed'], from: '08:00', to: '18:00' }] }),
      fc.constant({ timezone: 'Australia/Lord_Howe', windows: [{ days: ['sat'], from: '22:00', to: '02:00' }] }),
      fc.constant({ validUntil: '2026-07-01T00:00:00Z' }),
      fc.constant({ deviceState: { inUse: false } }),
    ),
    approval: fc.record({
      approvers: sub(['Biomed', 'Radiology', 'IT']),
      required: fc.integer({ min: 1, max: 3 }),
      timeoutMinutes: fc.constantFrom(30, 60),
      maxGrantMinutes: fc.constantFrom(60, 120),
    }),
  },
  { requiredKeys: ['effect', 'actions', 'devices'] },
);

type RuleSpec = typeof ruleArb extends fc.Arbitrary<infer T> ? T : never;

function setOf(rules: RuleSpec[], defaultEffect: 'deny' | 'ask'): PolicySet {
  const doc = {
    defaults: { effect: defaultEffect, approval: { approvers: ['Biomed'], required: 1, timeoutMinutes: 60 } },
    deviceGroups: GROUPS.map((name) => ({ name, devices: [name] })),
    rules: rules.map((r, i) => ({
      ...r,
      id: i < IDS.length ? IDS[i] : `x-${i}`,
      ...(r.effect === 'ask' ? {} : { approval: undefined }),
    })),
  };
  // No YAML aliases for the objects the arbitraries share: hundreds of them make the loader refuse the file.
  const result = loadPolicySources([{ name: 'p.yaml', text: stringify(doc, { aliasDuplicateObjects: false }) }]);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.set;
}

const requestArb = fc.record({
  action: fc.constantFrom(...ACTIONS, 'restart', 'manage', '*'),
  id: fc.constantFrom('u1@acme.example', 'u2@acme.example', 'u1@globex.example', 'x@other', 'U1@acme.example'),
  enterprise: fc.option(fc.constantFrom('acme', 'globex', 'acne', 'other'), { nil: undefined }),
  groups: fc.option(fc.subarray(['tier1', 'tier2', 'ops', 'ct-lead']), { nil: undefined }),
  deviceGroups: fc.subarray([...GROUPS, 'unknown']),
  target: fc.constantFrom(undefined, { path: '/var/log/a.log' }, { path: '/var/log/../etc/x' }, { package: 'pkg-a' }),
  now: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) }),
  inUse: fc.option(fc.boolean(), { nil: undefined }),
});

type RequestSpec = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function toInput(r: RequestSpec): DecisionInput {
  return {
    action: r.action,
    remoteUser: { id: r.id, enterprise: r.enterprise, groups: r.groups },
    target: r.target,
    device: {
      id: 'd',
      groups: new Set(r.deviceGroups),
      state: r.inUse === undefined ? null : { inUse: r.inUse },
      stateReportedAt: r.inUse === undefined ? null : r.now - 1000,
    },
    now: r.now,
    stateMaxAgeMs: 90_000,
  };
}

const ANY = (globs: string[] | undefined, value: string | undefined) =>
  globs === undefined || (value !== undefined && globs.some((g) => compileGlob(g, 'name').test(value)));

/** Whether one rule matches, read off the policy file's plain meaning (policy-files.md), without CASL. */
function plainMatch(rule: PolicyRule, input: DecisionInput): boolean {
  const user = input.remoteUser;
  const path = input.target?.path;
  const normalized = path === undefined ? undefined : posix.normalize(path.replace(/\\/g, '/'));
  const { state, stateReportedAt } = input.device;
  const when = rule.when;
  return (
    (rule.actions.includes('*') || rule.actions.includes(input.action)) &&
    (rule.devices.includes('*') || rule.devices.some((g) => input.device.groups.has(g))) &&
    ANY(rule.remoteUsers?.enterprises, user.enterprise) &&
    ANY(rule.remoteUsers?.users, user.id) &&
    (rule.remoteUsers?.groups === undefined || (user.groups ?? []).some((g) => ANY(rule.remoteUsers?.groups, g))) &&
    (rule.target?.paths === undefined ||
      (normalized !== undefined &&
        !normalized.startsWith('..') &&
        rule.target.paths.some((g) => compileGlob(g, 'path').test(normalized)))) &&
    ANY(rule.target?.packages, input.target?.package) &&
    (!when ||
      !(when.windows || when.dates || when.validFrom || when.validUntil) ||
      compileWhen(when).timeMatches(input.now)) &&
    (when?.deviceState === undefined ||
      (state !== null &&
        stateReportedAt !== null &&
        input.now - stateReportedAt <= input.stateMaxAgeMs &&
        Object.entries(when.deviceState).every(([k, v]) => state[k] === v)))
  );
}

/** The decision read off a full scan of every rule, written independently of the engine. */
function reference(set: PolicySet, input: DecisionInput): EngineDecision {
  const matching = new Set(set.rules.filter((r) => plainMatch(r, input)).map((r) => r.id));
  const of = (effect: string) => set.rules.filter((r) => r.effect === effect && matching.has(r.id));
  const ids = (rules: PolicySet['rules']) => rules.map((r) => r.id).sort();
  const [deny, ask, allow] = [of('deny'), of('ask'), of('allow')];
  if (deny.length > 0) return { decision: 'deny', decidedBy: 'deny', ruleIds: ids(deny), errors: [] };
  if (ask.length > 0) {
    const settings = ask.map((r) => r.approval ?? set.defaults.approval).filter((a) => a !== undefined);
    let approval: ApprovalSettings | undefined;
    if (settings.length > 0) {
      const shared = settings[0].approvers.filter((g) => settings.every((s) => s.approvers.includes(g)));
      const grants = settings.flatMap((s) => (s.maxGrantMinutes === undefined ? [] : [s.maxGrantMinutes]));
      approval = {
        approvers: (shared.length > 0 ? shared : [...new Set(settings.flatMap((s) => s.approvers))]).sort(),
        required: Math.max(...settings.map((s) => s.required)),
        timeoutMinutes: Math.min(...settings.map((s) => s.timeoutMinutes)),
        ...(grants.length > 0 ? { maxGrantMinutes: Math.min(...grants) } : {}),
      };
    }
    return { decision: 'pending', decidedBy: 'ask', ruleIds: ids(ask), approval, errors: [] };
  }
  if (allow.length > 0) {
    const ends = allow.map((r) => {
      const w = r.when;
      return w && (w.windows || w.dates || w.validFrom || w.validUntil) ? compileWhen(w).windowEnd(input.now) : null;
    });
    const windowEnd = ends.includes(null) ? null : Math.max(...(ends as number[]));
    return { decision: 'allow', decidedBy: 'allow', ruleIds: ids(allow), windowEnd, errors: [] };
  }
  return set.defaults.effect === 'ask'
    ? { decision: 'pending', decidedBy: 'default', ruleIds: [], approval: set.defaults.approval, errors: [] }
    : { decision: 'deny', decidedBy: 'default', ruleIds: [], errors: [] };
}

describe('decide() against a full scan of the rules (property-based)', () => {
  it('gives the same decision, rule ids, windowEnd and approval, for new and cached users alike', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 40 }),
        fc.constantFrom('deny' as const, 'ask' as const),
        fc.array(requestArb, { minLength: 1, maxLength: 12 }),
        (rules, defaultEffect, requests) => {
          const set = setOf(rules, defaultEffect);
          const engine = new PolicyEngine(set);
          // Twice over: the second round answers from the abilities the first one built.
          for (const r of [...requests, ...requests]) {
            const input = toInput(r);
            expect(engine.decide(input)).toEqual(reference(set, input));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('explains as matching exactly the rules that the full scan finds', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 40 }), requestArb, (rules, r) => {
        const set = setOf(rules, 'deny');
        const input = toInput(r);
        const explained = new PolicyEngine(set).explain(input);
        expect(explained.filter((e) => e.matches).map((e) => e.ruleId)).toEqual(
          set.rules.filter((rule) => plainMatch(rule, input)).map((rule) => rule.id),
        );
      }),
      { numRuns: 300 },
    );
  });
});
