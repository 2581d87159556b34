import { posix } from 'node:path';
import type { ApprovalSettings, PolicySet } from '../policy.types.js';
import { CompiledRule, Mismatch } from './compiled-rule.js';
import { ActionIndexes, EffectCode, type ActionIndex } from './action-index.js';
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
  private readonly indexes: ActionIndexes;
  private readonly abilities: UserAbilities;
  // Scratch space for decide(), which runs to the end without yielding: no allocation per call.
  private readonly groupBits: Uint32Array[] = [];
  private readonly matched: [Int32Array, Int32Array, Int32Array];

  constructor(readonly set: PolicySet) {
    this.rules = set.rules.map((r) => new CompiledRule(r));
    this.indexes = new ActionIndexes(this.rules);
    this.abilities = new UserAbilities(this.rules, this.indexes);
    const size = this.indexes.maxRules;
    this.matched = [new Int32Array(size), new Int32Array(size), new Int32Array(size)];
  }

  /**
   * Fills the time-zone caches (for now and for the ends of the windows open now), compiles
   * the remote-user globs, and lets the JIT see the hot path with made-up users and devices
   * built from the rules, so that the first real decisions after a (re)load are not the slow
   * ones; then forgets the made-up users.
   */
  warmUp(now: number): void {
    for (const rule of this.rules) rule.when?.windowEnd(now);
    this.abilities.warmUp();
    const step = Math.max(1, Math.floor(this.rules.length / WARM_UP_RULES));
    for (let k = 0; k < this.rules.length; k += step) {
      const input = madeUpInput(this.rules[k], now);
      for (let i = 0; i < WARM_UP_ROUNDS; i++) this.decide(input);
      this.decide({ ...input, remoteUser: { ...input.remoteUser, id: `${input.remoteUser.id}.${k}` } });
    }
    this.abilities.clear();
  }

  /** Remote users with the same rules in a part of the set share its ability: how many were built (for tests). */
  get abilitiesBuilt(): number {
    return this.abilities.abilitiesBuilt;
  }

  get version(): string {
    return this.set.version;
  }

  decide(raw: DecisionInput): EngineDecision {
    const input = withNormalizedPath(raw);
    const index = this.indexes.forAction(input.action);
    const base = this.abilities.baseFor(input.remoteUser) + index.offset;
    const userBits = this.abilities.bits;
    const groupBits = this.groupBits;
    let groups = 0;
    for (const group of input.device.groups) {
      const bits = index.byGroup.get(group);
      if (bits !== undefined) groupBits[groups++] = bits;
    }
    const [denied, asked, allowed] = this.matched;
    let deny = 0;
    let ask = 0;
    let allow = 0;
    let errors: EngineDecision['errors'] | undefined;
    // The user's rules for the action on the device's groups, in policy order; each is
    // checked (target, time, state) even once a deny matched, so that errors are all reported.
    for (let i = 0; i < index.words; i++) {
      let w = userBits[base + i];
      if (w === 0) continue;
      let device = index.anyDevice[i];
      for (let g = 0; g < groups; g++) device |= groupBits[g][i];
      for (w &= device; w !== 0; w &= w - 1) {
        const j = i * 32 + 31 - Math.clz32(w & -w);
        const rule = index.rules[j];
        let code: Mismatch;
        try {
          code = rule.requestMismatch(input);
        } catch (error) {
          (errors ??= []).push({ ruleId: rule.id, message: (error as Error).message });
          continue;
        }
        if (code !== Mismatch.None) continue;
        const effect = index.effects[j] as EffectCode;
        if (effect === EffectCode.Deny) denied[deny++] = j;
        else if (effect === EffectCode.Ask) asked[ask++] = j;
        else allowed[allow++] = j;
      }
    }
    groupBits.fill(EMPTY, 0, groups); // let go of the index's arrays
    if (deny > 0) {
      return {
        decision: 'deny',
        decidedBy: 'deny',
        ruleIds: sortedIds(index, denied, deny),
        errors: errors ?? [],
      };
    }
    if (ask > 0) {
      return {
        decision: 'pending',
        decidedBy: 'ask',
        ruleIds: sortedIds(index, asked, ask),
        approval: this.mergeApproval(rulesAt(index, asked, ask)),
        errors: errors ?? [],
      };
    }
    if (allow > 0) {
      return {
        decision: 'allow',
        decidedBy: 'allow',
        ruleIds: sortedIds(index, allowed, allow),
        windowEnd: latestEnd(rulesAt(index, allowed, allow), input.now),
        errors: errors ?? [],
      };
    }
    if (this.set.defaults.effect === 'ask') {
      return {
        decision: 'pending',
        decidedBy: 'default',
        ruleIds: [],
        approval: this.set.defaults.approval,
        errors: errors ?? [],
      };
    }
    return { decision: 'deny', decidedBy: 'default', ruleIds: [], errors: errors ?? [] };
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
  // indexOf first: most paths have none of "/.", "//" or "\\", and the test is on the hot path.
  if (path === undefined || (path.indexOf('/.') < 0 && path.indexOf('//') < 0 && path.indexOf('\\') < 0)) return input;
  if (!/\/\.{1,2}(\/|$)|\/\/|\\/.test(path)) return input;
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

const EMPTY = new Uint32Array(0);
const WARM_UP_RULES = 64;
const WARM_UP_ROUNDS = 4;

/** A request the rule could match, as far as names without wildcards allow (for warmUp). */
function madeUpInput(rule: CompiledRule, now: number): DecisionInput {
  const r = rule.rule;
  const literal = (globs: string[] | undefined) => globs?.find((g) => !/[*?[]/.test(g));
  return {
    action: r.actions[0] === '*' ? 'remote-session' : r.actions[0],
    remoteUser: {
      id: literal(r.remoteUsers?.users) ?? 'warm-up',
      enterprise: literal(r.remoteUsers?.enterprises),
      groups: [literal(r.remoteUsers?.groups) ?? 'warm-up'],
    },
    target: { path: '/warm-up', package: 'warm-up' },
    device: { id: 'warm-up', groups: new Set(rule.deviceGroups), state: { inUse: false }, stateReportedAt: now },
    now,
    stateMaxAgeMs: 0,
  };
}

/** The ids of the rules at these positions of the index, sorted as Array.prototype.sort() would. */
function sortedIds(index: ActionIndex, positions: Int32Array, n: number): string[] {
  const ids: string[] = [];
  const order: number[] = [];
  for (let k = 0; k < n; k++) {
    // Insertion by id rank: a handful of rules match.
    const j = positions[k];
    let at = order.length;
    while (at > 0 && index.ranks[order[at - 1]] > index.ranks[j]) at--;
    order.splice(at, 0, j);
  }
  for (const j of order) ids.push(index.rules[j].id);
  return ids;
}

function rulesAt(index: ActionIndex, positions: Int32Array, n: number): CompiledRule[] {
  const rules: CompiledRule[] = [];
  for (let k = 0; k < n; k++) rules.push(index.rules[positions[k]]);
  return rules;
}
