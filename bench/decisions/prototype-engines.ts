/** Candidate indexes tried in this bench only (not in src/), compared with PolicyEngine.decide(). */
import { CompiledRule, Mismatch } from '../../src/policies/engine/compiled-rule.js';
import type { DecisionInput } from '../../src/policies/engine/decision.types.js';
import { ACTION_CATALOGUE, compileGlob } from '../../src/policies/policy-schema.js';
import type { PolicySet } from '../../src/policies/policy.types.js';
import { normalizedPath } from './condition-costs.js';

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
export class BitsetEngine {
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
export class GroupIndexedEngine {
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
