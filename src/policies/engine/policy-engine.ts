import { posix } from 'node:path';
import type { ApprovalSettings, PolicySet } from '../policy.types.js';
import { CompiledRule, Mismatch } from './compiled-rule.js';
import { UserAbilities } from './user-abilities.js';
import type { DecisionInput, EngineDecision } from './decision.types.js';

export interface RuleExplanation {
  ruleId: string;
  effect: string;
  matches: boolean;
  reason: string;
}

/**
 * A policy set compiled for deciding. The decision rule is stated once, here:
 * any matching deny wins; else any matching ask (pending); else any matching allow;
 * else the default. A rule that fails to evaluate is skipped and reported, never allowed.
 */
export class PolicyEngine {
  private readonly rules: CompiledRule[];
  private readonly abilities: UserAbilities;

  constructor(readonly set: PolicySet) {
    this.rules = set.rules.map((r) => new CompiledRule(r));
    this.abilities = new UserAbilities(this.rules);
  }

  /**
   * Fills the time-zone caches and lets the JIT see the hot path once, so that the first
   * real decision after a (re)load is not the slow one.
   */
  warmUp(now: number): void {
    for (const rule of this.rules) rule.when?.timeMatches(now);
    const device = { id: '', groups: new Set<string>(), state: null, stateReportedAt: null };
    for (let i = 0; i < 50; i++) {
      this.decide({ action: 'remote-session', remoteUser: { id: '' }, device, now, stateMaxAgeMs: 0 });
    }
  }

  get version(): string {
    return this.set.version;
  }

  decide(raw: DecisionInput): EngineDecision {
    const input = withNormalizedPath(raw);
    const candidates = this.abilities.candidates(input);
    const deny: CompiledRule[] = [];
    const ask: CompiledRule[] = [];
    const allow: CompiledRule[] = [];
    const errors: EngineDecision['errors'] = [];
    for (const rule of candidates) {
      let code: Mismatch;
      try {
        code = rule.requestMismatch(input);
      } catch (error) {
        errors.push({ ruleId: rule.id, message: (error as Error).message });
        continue;
      }
      if (code !== Mismatch.None) continue;
      if (rule.rule.effect === 'deny') deny.push(rule);
      else if (rule.rule.effect === 'ask') ask.push(rule);
      else allow.push(rule);
    }
    const ids = (rules: CompiledRule[]) => rules.map((r) => r.id).sort();
    if (deny.length > 0) return { decision: 'deny', decidedBy: 'deny', ruleIds: ids(deny), errors };
    if (ask.length > 0) {
      return { decision: 'pending', decidedBy: 'ask', ruleIds: ids(ask), approval: this.mergeApproval(ask), errors };
    }
    if (allow.length > 0) {
      return {
        decision: 'allow',
        decidedBy: 'allow',
        ruleIds: ids(allow),
        windowEnd: latestEnd(allow, input.now),
        errors,
      };
    }
    if (this.set.defaults.effect === 'ask') {
      return { decision: 'pending', decidedBy: 'default', ruleIds: [], approval: this.set.defaults.approval, errors };
    }
    return { decision: 'deny', decidedBy: 'default', ruleIds: [], errors };
  }

  /** Every rule with whether it matches, and for the others the first condition that did not. */
  explain(raw: DecisionInput): RuleExplanation[] {
    const input = withNormalizedPath(raw);
    return this.rules.map((rule) => {
      let code: Mismatch;
      try {
        code = rule.mismatch(input);
      } catch (error) {
        return {
          ruleId: rule.id,
          effect: rule.rule.effect,
          matches: false,
          reason: `failed to evaluate: ${(error as Error).message}`,
        };
      }
      return {
        ruleId: rule.id,
        effect: rule.rule.effect,
        matches: code === Mismatch.None,
        reason: rule.explain(code, input),
      };
    });
  }

  /**
   * The strictest of the matching ask rules: most approvals required, shortest time-out,
   * shortest grant; approver groups that all rules share, or else all of them.
   */
  private mergeApproval(rules: CompiledRule[]): ApprovalSettings | undefined {
    const settings = rules.map((r) => r.rule.approval ?? this.set.defaults.approval).filter((a) => a !== undefined);
    if (settings.length === 0) return undefined;
    const shared = settings.map((s) => s.approvers).reduce((a, b) => a.filter((g) => b.includes(g)));
    const approvers = shared.length > 0 ? shared : [...new Set(settings.flatMap((s) => s.approvers))];
    const grants = settings.map((s) => s.maxGrantMinutes).filter((m) => m !== undefined);
    return {
      approvers: [...approvers].sort(),
      required: Math.max(...settings.map((s) => s.required)),
      timeoutMinutes: Math.min(...settings.map((s) => s.timeoutMinutes)),
      ...(grants.length > 0 ? { maxGrantMinutes: Math.min(...grants) } : {}),
    };
  }
}

/**
 * Path globs judge the path the device will act on: "/var/log/../../etc/shadow" is
 * "/etc/shadow", and a path that climbs above the root matches nothing.
 */
function withNormalizedPath(input: DecisionInput): DecisionInput {
  const path = input.target?.path;
  if (path === undefined || !/\/\.{1,2}(\/|$)|\/\/|\\/.test(path)) return input;
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  const safe = normalized.startsWith('..') ? '\u0000outside-root' : normalized;
  return { ...input, target: { ...input.target, path: safe } };
}

/** The allow holds while any of its rules does: the latest end among them (null = no end). */
function latestEnd(rules: CompiledRule[], now: number): number | null {
  let latest = -Infinity;
  for (const rule of rules) {
    const end = rule.when ? rule.when.windowEnd(now) : null;
    if (end === null) return null;
    latest = Math.max(latest, end);
  }
  return latest;
}
