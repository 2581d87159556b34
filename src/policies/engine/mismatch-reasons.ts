import type { PolicyRule } from '../policy.types.js';
import type { CompiledWhen } from '../time-window.js';
import type { RequestSubject } from './rule-operators.js';

/** Why a rule's condition on `field` (a field of ruleConditions()) does not hold, for the simulator. */
export function explainMismatch(
  field: string,
  rule: PolicyRule,
  subject: RequestSubject,
  when: CompiledWhen | null,
): string {
  const list = (items: readonly string[] | undefined) => items?.join(', ');
  switch (field) {
    case 'deviceGroups':
      return `device is in ${[...subject.deviceGroups].join(', ') || 'no group'}, not in ${list(rule.devices)}`;
    case 'enterprise':
      return `enterprise '${subject.enterprise ?? '(none)'}' is not one of ${list(rule.remoteUsers?.enterprises)}`;
    case 'remoteUserId':
      return `remote user '${subject.remoteUserId}' does not match ${list(rule.remoteUsers?.users)}`;
    case 'remoteUserGroups':
      return `remote user's groups (${list(subject.remoteUserGroups) || 'none'}) do not match ${list(rule.remoteUsers?.groups)}`;
    case 'path':
      return `target path '${subject.path ?? '(none)'}' does not match ${list(rule.target?.paths)}`;
    case 'package':
      return `target package '${subject.package ?? '(none)'}' does not match ${list(rule.target?.packages)}`;
    case 'version':
      return `target version '${subject.version ?? '(none)'}' does not match ${list(rule.target?.versions)}`;
    case 'sha256':
      return `target sha256 '${subject.sha256 ?? '(none)'}' is not one of ${list(rule.target?.sha256)}`;
    case 'ticket':
      return subject.ticket
        ? `ticket '${subject.ticket}' does not match ${rule.ticket?.pattern}`
        : 'no ticket given (context.ticket), and the rule requires one';
    case 'now':
      return when?.firstNonMatch(subject.now) ?? "outside the rule's time conditions";
    case 'deviceState':
      return `device state does not satisfy ${JSON.stringify(rule.when?.deviceState)} (or is unknown or older than three poll intervals)`;
    default:
      return `condition on ${field} does not hold`;
  }
}
