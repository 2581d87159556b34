import type { PackRule } from '@casl/ability/extra';
import { offlineAbility } from '../policies/engine/offline-policy.js';
import { REQUEST, requestSubject, type PolicyCaslRule } from '../policies/engine/rule-conditions.js';
import type { OfflineDecision } from './agent-policy.dto.js';

/** An agent's clock may run this far ahead of Gatehouse's before its decisions read as "in the future". */
export const CLOCK_SKEW_MS = 2 * 60_000;

/** What the device was given under the version its decision names (offline_policy_issues). */
export interface HeldPolicy {
  firstIssuedAt: Date;
  validUntil: Date;
  rules: PackRule<PolicyCaslRule>[];
}

export interface OfflineVerdict {
  /** The offline rules that allow it, as the agent's evaluator would find them. */
  ruleIds: string[];
  /** Why it needs a look: null when it is what the policy the device held allowed, then. */
  flag: string | null;
}

/**
 * Gatehouse's reading of an offline decision: the device must have held the version it names,
 * at a time that policy was valid and not after Gatehouse's now; an allow must be one that
 * policy's rules allow at `decidedAt` (the same CASL evaluation as the agent's). A deny is
 * always within policy: refusing is what offline means.
 */
export function checkOfflineDecision(d: OfflineDecision, held: HeldPolicy | null, now: Date): OfflineVerdict {
  const at = Date.parse(d.decidedAt);
  if (!held) return { ruleIds: [], flag: `policy version ${d.policyVersion} was never given to this device` };
  const ruleIds = allowingRules(held.rules, d, at);
  if (at > now.getTime() + CLOCK_SKEW_MS) return { ruleIds, flag: 'decided in the future (device clock?)' };
  if (at < held.firstIssuedAt.getTime() || at > held.validUntil.getTime()) {
    const window = `${held.firstIssuedAt.toISOString()} to ${held.validUntil.toISOString()}`;
    return { ruleIds, flag: `decided outside the offline policy's validity (${window})` };
  }
  if (d.decision === 'allow' && ruleIds.length === 0) return { ruleIds, flag: 'the offline policy did not allow it' };
  return { ruleIds, flag: null };
}

/** The rules of the packed policy that allow the decision at `at`, with the state the agent reported. */
function allowingRules(rules: PackRule<PolicyCaslRule>[], d: OfflineDecision, at: number): string[] {
  const subject = requestSubject({
    remoteUser: d.remoteUser,
    target: d.target,
    context: d.context,
    // The groups are resolved in the packed rules; the state is the agent's own, at that instant.
    device: { groups: new Set(), state: d.deviceState ?? null, stateReportedAt: at },
    now: at,
    stateMaxAgeMs: 0,
  });
  const ability = offlineAbility(rules);
  return ability
    .rulesFor(d.action, REQUEST)
    .filter((rule) => rule.matchesConditions(subject as never))
    .map((rule) => rule.reason!)
    .sort();
}
