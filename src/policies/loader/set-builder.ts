/**
 * Building the PolicySet from files that passed every check: merged in file order, each
 * entry with its source (file and line), every `ask` rule with complete approval settings.
 *
 * Approvals: each field from the rule's own `approval`, else from `defaults.approval`,
 * else required 1 and timeoutMinutes 60 (maxGrantMinutes stays absent: no repeats).
 */
import type {
  AccessDefinition,
  ApprovalSettings,
  DeviceGroupDefinition,
  PolicyRule,
  PolicySet,
  WhenCondition,
} from '../policy.types.js';
import {
  APPROVAL_DEFAULTS,
  type DefaultsApprovalInput,
  type RuleApprovalInput,
  type RuleInput,
} from '../policy-schema.js';
import type { PolicyFileReader } from './file-reader.js';
import { policySetVersion } from './set-version.js';

function resolveApproval(
  own: RuleApprovalInput,
  fallback: ApprovalSettings | DefaultsApprovalInput | undefined,
): ApprovalSettings {
  const approvers = own.approvers ?? fallback?.approvers;
  if (approvers === undefined) throw new Error('an ask rule without approvers passed validation');
  const settings: ApprovalSettings = {
    approvers: [...approvers],
    required: own.required ?? fallback?.required ?? APPROVAL_DEFAULTS.required,
    timeoutMinutes: own.timeoutMinutes ?? fallback?.timeoutMinutes ?? APPROVAL_DEFAULTS.timeoutMinutes,
  };
  const maxGrant = own.maxGrantMinutes ?? fallback?.maxGrantMinutes;
  if (maxGrant !== undefined) settings.maxGrantMinutes = maxGrant;
  return settings;
}

/** Copies an object without its undefined values. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function buildRule(input: RuleInput, fallback: ApprovalSettings | undefined, file: string, line: number): PolicyRule {
  let when: WhenCondition | undefined;
  if (input.when) {
    const w = input.when;
    when = defined({
      timezone: w.timezone,
      windows: w.windows?.map((x) => ({ days: [...x.days], from: x.from, to: x.to })),
      dates: w.dates?.map((x) => ({ from: x.from, to: x.to })),
      validFrom: w.validFrom === undefined ? undefined : new Date(w.validFrom),
      validUntil: w.validUntil === undefined ? undefined : new Date(w.validUntil),
      deviceState: w.deviceState === undefined ? undefined : { ...w.deviceState },
    });
  }
  return defined({
    id: input.id,
    description: input.description,
    effect: input.effect,
    actions: [...input.actions],
    devices: [...input.devices],
    remoteUsers: input.remoteUsers && defined({ ...input.remoteUsers }),
    target: input.target && defined({ ...input.target }),
    when,
    approval: input.effect === 'ask' ? resolveApproval(input.approval ?? {}, fallback) : undefined,
    breakGlass: input.breakGlass,
    ticket: input.ticket && defined({ ...input.ticket }),
    attended: input.attended,
    offline: input.offline,
    source: { kind: 'file' as const, file, line },
  });
}

/**
 * The same group with the same role in several entries (one file or several: hospitals
 * split their files by department) is one entry whose device scope is the union; an entry
 * without devices (all devices) makes the union all devices. It keeps the first source.
 */
function addAccess(access: AccessDefinition[], entry: AccessDefinition): void {
  const same = access.find((a) => a.role === entry.role && a.group.toLowerCase() === entry.group.toLowerCase());
  if (!same) {
    access.push(entry);
    return;
  }
  if (same.devices === undefined || entry.devices === undefined) delete same.devices;
  else same.devices = [...new Set([...same.devices, ...entry.devices])].sort(); // sorted: the version does not depend on file order
}

/** The set of files that all passed validation (every reader has `data`). */
export function buildPolicySet(readers: PolicyFileReader[]): PolicySet {
  const defaultsInput = readers.find((r) => r.data?.defaults)?.data?.defaults;
  const defaults: PolicySet['defaults'] = { effect: defaultsInput?.effect ?? 'deny' };
  if (defaultsInput?.approval) defaults.approval = resolveApproval(defaultsInput.approval, undefined);
  const deviceGroups: DeviceGroupDefinition[] = [];
  const access: AccessDefinition[] = [];
  const rules: PolicyRule[] = [];
  for (const r of readers) {
    const data = r.data ?? {};
    data.deviceGroups?.forEach((g, i) => {
      const source = { kind: 'file' as const, file: r.name, line: r.lineOf(['deviceGroups', i]) };
      const match = g.match && (defined({ ...g.match }) as Record<string, string[]>);
      const reports = g.reports && { recipients: [...g.reports.recipients], digest: [...g.reports.digest] };
      deviceGroups.push(defined({ name: g.name, match, devices: g.devices && [...g.devices], reports, source }));
    });
    data.access?.forEach((a, i) => {
      const source = { kind: 'file' as const, file: r.name, line: r.lineOf(['access', i]) };
      addAccess(access, defined({ group: a.group, role: a.role, devices: a.devices && [...a.devices], source }));
    });
    data.rules?.forEach((rule, i) => rules.push(buildRule(rule, defaults.approval, r.name, r.lineOf(['rules', i]))));
  }
  const content = { defaults, deviceGroups, access, rules };
  return { version: policySetVersion(content), ...content };
}
