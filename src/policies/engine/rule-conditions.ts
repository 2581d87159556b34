import { createMongoAbility, type MongoAbility, type MongoQuery } from '@casl/ability';
import type { PolicyRule } from '../policy.types.js';
import { normalizedPath, ruleConditionsMatcher, type RequestSubject } from './rule-operators.js';

/**
 * Policy rules as CASL rules whose conditions are the rule's own (rule-operators.ts). The
 * subject types are the rule's device groups ('all' for every device), so that CASL's own
 * index gives the rules of a device's groups; the rule id travels as CASL's `reason`; a
 * rule for every action ('*') is CASL's 'manage'. Effects are not CASL's `inverted`: the
 * engine evaluates every rule of the action and applies the policy's precedence itself
 * (deny > ask > allow > default), so the order of the rules does not matter.
 */

/** The subject type of rules already resolved for one device (the offline policy). */
export const REQUEST = 'Request';
export type RequestAbility = MongoAbility<[string, string]>;

export interface PolicyCaslRule {
  action: string | string[];
  /** Device group names, 'all', or REQUEST. */
  subject: string | string[];
  conditions?: MongoQuery;
  /** The rule id. */
  reason: string;
}

/**
 * The condition fields, in the order the simulator reports the first one that fails.
 * Remote-user fields are resolved once per remote user (the ability is that user's);
 * `device.groups` once per device (the offline policy is that device's).
 */
export const REMOTE_USER_FIELDS = ['enterprise', 'remoteUserId', 'remoteUserGroups'];
export const DEVICE_FIELD = 'deviceGroups';

/** A rule's every condition, as CASL conditions. */
export function ruleConditions(rule: PolicyRule): Record<string, object> {
  const c: Record<string, object> = {};
  if (!rule.devices.includes('*')) c[DEVICE_FIELD] = { $anyGroup: rule.devices };
  const users = rule.remoteUsers;
  if (users?.enterprises) c.enterprise = { $glob: users.enterprises };
  if (users?.users) c.remoteUserId = { $glob: users.users };
  if (users?.groups) c.remoteUserGroups = { $anyGlob: users.groups };
  const target = rule.target;
  if (target?.paths) c.path = { $pathGlob: target.paths };
  if (target?.packages) c.package = { $glob: target.packages };
  if (target?.versions) c.version = { $glob: target.versions };
  if (target?.sha256) c.sha256 = { $in: target.sha256 };
  if (rule.ticket && (rule.ticket.required || rule.ticket.pattern)) {
    c.ticket = {
      $ticket: { required: rule.ticket.required ?? false, pattern: rule.ticket.pattern ?? null },
    };
  }
  const when = rule.when;
  if (when && (when.windows || when.dates || when.validFrom || when.validUntil)) {
    c.now = {
      $when: {
        timezone: when.timezone,
        windows: when.windows,
        dates: when.dates,
        validFrom: when.validFrom?.toISOString(),
        validUntil: when.validUntil?.toISOString(),
      },
    };
  }
  if (when?.deviceState) c.deviceState = { $state: when.deviceState };
  return c;
}

/**
 * The CASL rule of a policy rule, without the conditions on `resolved` fields. Its device
 * groups are its subject types, unless the device is resolved too (subject REQUEST).
 */
export function toCaslRule(rule: PolicyRule, resolved: readonly string[] = []): PolicyCaslRule {
  const conditions = ruleConditions(rule);
  delete conditions[DEVICE_FIELD];
  for (const field of resolved) delete conditions[field];
  const subject = resolved.includes(DEVICE_FIELD) ? REQUEST : rule.devices.includes('*') ? 'all' : rule.devices;
  return {
    action: rule.actions.includes('*') ? 'manage' : rule.actions,
    subject,
    ...(Object.keys(conditions).length > 0 ? { conditions: conditions } : {}),
    reason: rule.id,
  };
}

/**
 * An ability of policy rules. Conditions are compiled once per conditions object, not
 * once per ability: the abilities of many remote users share their rules' conditions.
 */
export function createRequestAbility(rules: PolicyCaslRule[], compiled = new WeakMap<object, unknown>()) {
  return createMongoAbility<RequestAbility>(rules as never, {
    // Subjects are plain request objects, asked about by subject type (rulesFor) or, for
    // the offline policy, as REQUEST.
    detectSubjectType: () => REQUEST,
    conditionsMatcher: (conditions) => {
      let match = compiled.get(conditions);
      if (match === undefined) compiled.set(conditions, (match = ruleConditionsMatcher(conditions)));
      return match as ReturnType<typeof ruleConditionsMatcher>;
    },
  });
}

/** What Gatehouse knows of a request, as the engine is asked it. */
export interface RequestFacts {
  remoteUser: { id: string; enterprise?: string; groups?: readonly string[] };
  target?: { path?: string; package?: string; version?: string; sha256?: string };
  context?: { ticket?: string };
  device: { groups: ReadonlySet<string>; state: Record<string, unknown> | null; stateReportedAt: number | null };
  now: number;
  /** State older than this is unknown. */
  stateMaxAgeMs: number;
}

/** The subject that rules are matched against: the path normalized, the state only when fresh. */
export function requestSubject(facts: RequestFacts): RequestSubject {
  const { state, stateReportedAt } = facts.device;
  const fresh = state !== null && stateReportedAt !== null && facts.now - stateReportedAt <= facts.stateMaxAgeMs;
  const target = facts.target ?? {};
  return {
    enterprise: facts.remoteUser.enterprise,
    remoteUserId: facts.remoteUser.id,
    remoteUserGroups: facts.remoteUser.groups,
    deviceGroups: facts.device.groups,
    path: normalizedPath(target.path),
    package: target.package,
    version: target.version,
    // The agent API takes either case of hex digits; the policy files, lowercase.
    sha256: target.sha256?.toLowerCase(),
    ticket: facts.context?.ticket,
    now: facts.now,
    deviceState: fresh ? state : null,
  };
}
