import { packRules, unpackRules, type PackRule } from '@casl/ability/extra';
import type { PolicySet } from '../policy.types.js';
import { createRequestAbility, DEVICE_FIELD, toCaslRule, type PolicyCaslRule } from './rule-conditions.js';

/**
 * The offline policy of agent-api.md 1.1: the `offline: true` rules (allow only) that apply
 * to one device, as packed CASL rules with their conditions (remote user, target, ticket,
 * time, device state). The device's groups are resolved here, so the rules' subject type
 * is REQUEST. Signing and serving them is the agent API's work (not built yet).
 */
export function offlineRulesFor(set: PolicySet, deviceGroups: ReadonlySet<string>): PackRule<PolicyCaslRule>[] {
  const rules = set.rules.filter(
    (rule) =>
      rule.offline === true &&
      rule.effect === 'allow' &&
      (rule.devices.includes('*') || rule.devices.some((group) => deviceGroups.has(group))),
  );
  return packRules(rules.map((rule) => toCaslRule(rule, [DEVICE_FIELD])));
}

/**
 * What an agent SDK checks an offline decision with (needs only @casl/ability and this
 * module's imports): `offlineAbility(rules).can(action, requestSubject(facts))`. Every rule
 * is an allow, so CASL's own `can` is the whole decision; anything else is denied.
 */
export function offlineAbility(packed: PackRule<PolicyCaslRule>[]) {
  return createRequestAbility(unpackRules(packed));
}
