import { compileGlob } from '../globs.js';
import type { PolicyRule, PolicySet } from '../policy.types.js';
import { compileWhen, type CompiledWhen } from '../time-window.js';
import type { DecisionInput, EngineDecision, MergedApproval, TicketVerdict } from './decision.types.js';
import { explainMismatch } from './mismatch-reasons.js';
import {
  REMOTE_USER_FIELDS,
  createRequestAbility,
  requestSubject,
  ruleConditions,
  toCaslRule,
  type PolicyCaslRule,
  type RequestAbility,
} from './rule-conditions.js';
import { ruleConditionsMatcher, type RequestSubject } from './rule-operators.js';

export interface RuleExplanation {
  ruleId: string;
  effect: string;
  matches: boolean;
  reason: string;
}

type CaslRule = ReturnType<RequestAbility['rulesFor']>[number];

/** A subject type no rule names: asking for it gives the rules for all devices only. */
const NO_GROUP = ' no device group';

/** Remote users (and distinct abilities) kept; past this the oldest are forgotten (bounded memory). */
const MAX_CACHED_ABILITIES = 10_000;

/** A rule with a ticket check that the caller did not check: it does not match (never a silent allow). */
const UNCHECKED: TicketVerdict = { kind: 'refused', reason: 'the ticket was not checked with the ITSM' };

type Matcher = (subject: RequestSubject) => boolean;

/** One rule, ready for deciding and explaining. */
interface EngineRule {
  rule: PolicyRule;
  /** Its CASL rule without the remote-user conditions: one object, shared by every user's ability. */
  caslRule: PolicyCaslRule;
  /** Its remote-user conditions alone, tested once per remote user; null when it has none. */
  remoteUserMatches: ((user: DecisionInput['remoteUser']) => boolean) | null;
  /** Each condition alone, in the order of ruleConditions(): for explanations. */
  conditions: [field: string, matches: Matcher][];
  when: CompiledWhen | null;
}

/**
 * A policy set compiled for deciding. Each remote user's policy is a CASL ability: the
 * rules whose remote-user conditions the user meets, with every other condition (device
 * groups, target, ticket, time, device state) as CASL conditions. The decision rule is
 * stated once, here: any matching deny wins; else any matching ask (pending); else any
 * matching allow; else the default. A rule that fails to evaluate is skipped and
 * reported, never allowed.
 */
export class PolicyEngine {
  private readonly rules: EngineRule[];
  private readonly byId = new Map<string, EngineRule>();
  /** Abilities by remote user (id, enterprise, groups); one engine per policy version. */
  private readonly abilities = new Map<string, RequestAbility>();
  /**
   * The same abilities by the rules they hold: users whom the same rules name (the same
   * enterprise and groups, most often) share one. Fewer abilities are fewer to build and a
   * smaller working set for decide(), which spends most of its time reaching its ability's
   * index in memory (bench: 8,191 users, 2,295 rule sets; 358 -> 150 MB of heap).
   */
  private readonly abilitiesByRules = new Map<string, RequestAbility>();
  /** Compiled conditions, shared by the abilities of all remote users. */
  private readonly compiled = new WeakMap<object, unknown>();
  /** Whether any rule has a ticket `check`: without one, ticketChecksFor() costs nothing. */
  private readonly hasTicketChecks: boolean;

  constructor(readonly set: PolicySet) {
    this.rules = set.rules.map((rule) => {
      const conditions = Object.entries(ruleConditions(rule));
      const w = rule.when;
      const engineRule: EngineRule = {
        rule,
        caslRule: toCaslRule(rule, REMOTE_USER_FIELDS),
        remoteUserMatches: remoteUserTest(rule),
        conditions: conditions.map(([field, condition]) => [field, matcherOf({ [field]: condition })]),
        when: w && (w.windows || w.dates || w.validFrom || w.validUntil) ? compileWhen(w) : null,
      };
      this.byId.set(rule.id, engineRule);
      return engineRule;
    });
    this.hasTicketChecks = set.rules.some((r) => r.ticket?.check !== undefined);
  }

  get version(): string {
    return this.set.version;
  }

  /** How many remote users' abilities are kept (for tests). */
  get cachedAbilities(): number {
    return this.abilities.size;
  }

  /** How many distinct abilities those users share (for tests). */
  get distinctAbilities(): number {
    return this.abilitiesByRules.size;
  }

  decide(input: DecisionInput): EngineDecision {
    const subject = requestSubject(input);
    const matched: Record<'deny' | 'ask' | 'allow', EngineRule[]> = { deny: [], ask: [], allow: [] };
    const errors: EngineDecision['errors'] = [];
    const ticketNotes: string[] = [];
    // Every rule of the action is checked, even once a deny matched, so that errors are all reported.
    for (const caslRule of this.candidates(this.abilityFor(input.remoteUser), input)) {
      const rule = this.byId.get(caslRule.reason!)!;
      try {
        if (!caslRule.matchesConditions(subject as never)) continue;
        const ticket = rule.rule.ticket;
        const verdict = ticket?.check ? (input.ticketVerdicts?.get(rule.rule.id) ?? UNCHECKED) : null;
        if (verdict === null || verdict.kind === 'confirmed') {
          matched[rule.rule.effect].push(rule);
          continue;
        }
        ticketNotes.push(`${rule.rule.id}: ${verdict.reason}`);
        // No answer from the ITSM: the rule's choice, deny or ask; never allow.
        if (verdict.kind === 'unavailable') matched[ticket?.onUnavailable ?? 'deny'].push(rule);
      } catch (error) {
        errors.push({ ruleId: rule.rule.id, message: (error as Error).message });
      }
    }
    const decision = this.decideMatched(matched, input, errors);
    if (ticketNotes.length > 0) decision.ticketNotes = ticketNotes;
    return decision;
  }

  /**
   * The rules with a ticket `check` that match the request in every other way: the ones whose
   * ticket the caller must check with the ITSM before decide(). Empty (at once) when no rule checks.
   */
  ticketChecksFor(input: DecisionInput): PolicyRule[] {
    if (!this.hasTicketChecks) return [];
    const subject = requestSubject(input);
    const rules: PolicyRule[] = [];
    for (const caslRule of this.candidates(this.abilityFor(input.remoteUser), input)) {
      const rule = this.byId.get(caslRule.reason!)!.rule;
      try {
        if (rule.ticket?.check && caslRule.matchesConditions(subject as never)) rules.push(rule);
      } catch {
        // decide() reports the rule as failing to evaluate.
      }
    }
    return rules;
  }

  /** The decision rule: any deny wins; else any ask (pending); else any allow; else the default. */
  private decideMatched(
    matched: Record<'deny' | 'ask' | 'allow', EngineRule[]>,
    input: DecisionInput,
    errors: EngineDecision['errors'],
  ): EngineDecision {
    const { deny, ask, allow } = matched;
    if (deny.length > 0) return { decision: 'deny', decidedBy: 'deny', ruleIds: idsOf(deny), errors };
    if (ask.length > 0) {
      const approval = this.mergeApproval(ask);
      // The allow that an approval makes of it carries the ask rules' obligations.
      const obligations = obligationsOf(ask);
      return { decision: 'pending', decidedBy: 'ask', ruleIds: idsOf(ask), approval, ...obligations, errors };
    }
    if (allow.length > 0) {
      const windowEnd = latestEnd(allow, input.now);
      return {
        decision: 'allow',
        decidedBy: 'allow',
        ruleIds: idsOf(allow),
        windowEnd,
        ...obligationsOf(allow),
        errors,
      };
    }
    if (this.set.defaults.effect === 'ask') {
      return { decision: 'pending', decidedBy: 'default', ruleIds: [], approval: this.set.defaults.approval, errors };
    }
    return { decision: 'deny', decidedBy: 'default', ruleIds: [], errors };
  }

  /** Every rule with whether it matches, and for the others the first condition that did not. */
  explain(input: DecisionInput): RuleExplanation[] {
    const subject = requestSubject(input);
    return this.rules.map(({ rule, conditions, when }) => {
      const explained = (matches: boolean, reason: string) => ({
        ruleId: rule.id,
        effect: rule.effect,
        matches,
        reason,
      });
      if (!rule.actions.includes('*') && !rule.actions.includes(input.action)) {
        return explained(false, `action '${input.action}' is not one of ${rule.actions.join(', ')}`);
      }
      for (const [field, matches] of conditions) {
        try {
          if (!matches(subject)) return explained(false, explainMismatch(field, rule, subject, when));
        } catch (error) {
          return explained(false, `failed to evaluate: ${(error as Error).message}`);
        }
      }
      return explained(true, 'matches');
    });
  }

  /**
   * The user's rules for the action on the device's groups (CASL indexes rules by action and
   * subject type); a rule for several of the device's groups, or for all, is listed once.
   */
  private candidates(ability: RequestAbility, input: DecisionInput): Iterable<CaslRule> {
    const groups = input.device.groups;
    if (groups.size === 0) return ability.rulesFor(input.action, NO_GROUP);
    if (groups.size === 1) return ability.rulesFor(input.action, groups.values().next().value!);
    const rules = new Set<CaslRule>();
    for (const group of groups) for (const rule of ability.rulesFor(input.action, group)) rules.add(rule);
    return rules;
  }

  /**
   * The user's ability: the rules whose remote-user conditions they meet, found on first use,
   * and built once for every user those same rules name.
   */
  private abilityFor(user: DecisionInput['remoteUser']): RequestAbility {
    const key = JSON.stringify([user.id, user.enterprise ?? null, user.groups ?? []]);
    let ability = this.abilities.get(key);
    if (ability === undefined) {
      const mine = this.rules.filter((r) => r.remoteUserMatches === null || r.remoteUserMatches(user));
      // Rule ids are unique names without newlines (policy-value-checks.ts): the key is exact.
      const rulesKey = mine.map((r) => r.rule.id).join('\n');
      ability = this.abilitiesByRules.get(rulesKey);
      if (ability === undefined) {
        ability = createRequestAbility(
          mine.map((r) => r.caslRule),
          this.compiled,
        );
        keepBounded(this.abilitiesByRules, rulesKey, ability);
      }
      keepBounded(this.abilities, key, ability);
    }
    return ability;
  }

  /**
   * The strictest of the matching ask rules: most approvals required, shortest time-out,
   * shortest grant; approver groups that all rules share, or else all of them; break-glass
   * only if every rule allows it.
   */
  private mergeApproval(rules: EngineRule[]): MergedApproval | undefined {
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
      ...(rules.every((r) => r.rule.breakGlass === true) ? { breakGlass: true as const } : {}),
    };
  }
}

/**
 * A rule's remote-user conditions as a plain test of the same globs (globs.ts) as its CASL
 * conditions: run over every rule once per new remote user, ~5x quicker than the CASL
 * matcher (decide-equivalence.spec.ts holds both to the plain reading of the rules).
 */
function remoteUserTest(rule: PolicyRule): ((user: DecisionInput['remoteUser']) => boolean) | null {
  const users = rule.remoteUsers;
  if (!users || (!users.enterprises && !users.users && !users.groups)) return null;
  const compile = (globs: string[] | undefined) => globs?.map((g) => compileGlob(g, 'name'));
  const [enterprises, ids, groups] = [compile(users.enterprises), compile(users.users), compile(users.groups)];
  const any = (globs: RegExp[], value: string | undefined) => value !== undefined && globs.some((g) => g.test(value));
  return (user) =>
    (!enterprises || any(enterprises, user.enterprise)) &&
    (!ids || any(ids, user.id)) &&
    (!groups || (user.groups ?? []).some((group) => any(groups, group)));
}

/** Adds to a map of abilities, forgetting the oldest past MAX_CACHED_ABILITIES (bounded memory). */
function keepBounded(map: Map<string, RequestAbility>, key: string, ability: RequestAbility): void {
  if (map.size >= MAX_CACHED_ABILITIES) map.delete(map.keys().next().value!);
  map.set(key, ability);
}

function matcherOf(conditions: Record<string, object>): Matcher {
  return ruleConditionsMatcher(conditions);
}

const idsOf = (rules: EngineRule[]) => rules.map((r) => r.rule.id).sort();

/** An attended rule among those that decided: the agent must get local consent (agent-api.md 1.1). */
const obligationsOf = (rules: EngineRule[]): { obligations?: string[] } =>
  rules.some((r) => r.rule.attended === true) ? { obligations: ['local-consent'] } : {};

/** The allow holds while any of its rules does: the latest end among them (null = no end). */
function latestEnd(rules: EngineRule[], now: number): number | null {
  let latest = -Infinity;
  for (const rule of rules) {
    const end = rule.when ? rule.when.windowEnd(now) : null;
    if (end === null) return null;
    latest = Math.max(latest, end);
  }
  return latest;
}
