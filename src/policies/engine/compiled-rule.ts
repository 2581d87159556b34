import { compileGlob } from '../policy-schema.js';
import type { PolicyRule } from '../policy.types.js';
import { compileWhen, type CompiledWhen } from '../time-window.js';
import type { DecisionInput } from './decision.types.js';

/** Why a rule did not match; 0 means it did. Codes keep the hot path free of string building. */
export enum Mismatch {
  None = 0,
  Action,
  Device,
  Enterprise,
  User,
  UserGroup,
  Path,
  Package,
  Time,
  DeviceState,
}

const anyMatch = (patterns: RegExp[] | null, value: string | undefined): boolean => {
  if (patterns === null) return true;
  if (value === undefined) return false;
  for (const p of patterns) if (p.test(value)) return true;
  return false;
};

/** One rule, compiled once per policy set: sets for names, regular expressions for globs. */
export class CompiledRule {
  readonly id: string;
  readonly allActions: boolean;
  readonly actions: ReadonlySet<string>;
  readonly allDevices: boolean;
  readonly deviceGroups: string[];
  private readonly enterprises: RegExp[] | null;
  private readonly users: RegExp[] | null;
  private readonly userGroups: RegExp[] | null;
  private readonly paths: RegExp[] | null;
  private readonly packages: RegExp[] | null;
  readonly when: CompiledWhen | null;
  private readonly deviceState: [string, unknown][] | null;

  constructor(readonly rule: PolicyRule) {
    this.id = rule.id;
    this.allActions = rule.actions.includes('*');
    this.actions = new Set(rule.actions);
    this.allDevices = rule.devices.includes('*');
    this.deviceGroups = rule.devices;
    const names = (list: string[] | undefined) => (list ? list.map((g) => compileGlob(g, 'name')) : null);
    this.enterprises = names(rule.remoteUsers?.enterprises);
    this.users = names(rule.remoteUsers?.users);
    this.userGroups = names(rule.remoteUsers?.groups);
    this.paths = rule.target?.paths ? rule.target.paths.map((g) => compileGlob(g, 'path')) : null;
    this.packages = names(rule.target?.packages);
    const w = rule.when;
    this.when = w && (w.windows || w.dates || w.validFrom || w.validUntil) ? compileWhen(w) : null;
    this.deviceState = w?.deviceState ? Object.entries(w.deviceState) : null;
  }

  /** The first condition that does not hold, in the order the simulator reports them. */
  mismatch(input: DecisionInput): Mismatch {
    if (!this.allActions && !this.actions.has(input.action)) return Mismatch.Action;
    if (!this.allDevices && !this.deviceGroups.some((g) => input.device.groups.has(g))) return Mismatch.Device;
    return this.remoteUserMismatch(input.remoteUser) || this.requestMismatch(input);
  }

  /** The remote-user part alone: the same for every request of that user (see UserAbilities). */
  remoteUserMismatch(user: DecisionInput['remoteUser']): Mismatch {
    if (!anyMatch(this.enterprises, user.enterprise)) return Mismatch.Enterprise;
    if (!anyMatch(this.users, user.id)) return Mismatch.User;
    if (this.userGroups !== null && !(user.groups ?? []).some((g) => anyMatch(this.userGroups, g))) {
      return Mismatch.UserGroup;
    }
    return Mismatch.None;
  }

  /** CASL rule data for the action part (see UserAbilities). */
  toCaslRule(): { action: string | string[]; subject: 'Device'; reason: string } {
    return { action: this.allActions ? 'manage' : [...this.actions], subject: 'Device', reason: this.id };
  }

  /** Whether the device is in one of the rule's groups. */
  deviceMatches(groups: ReadonlySet<string>): boolean {
    if (this.allDevices) return true;
    for (const g of this.deviceGroups) if (groups.has(g)) return true;
    return false;
  }

  /** What depends on the request itself: target, time and device state. */
  requestMismatch(input: DecisionInput): Mismatch {
    if (!anyMatch(this.paths, input.target?.path)) return Mismatch.Path;
    if (!anyMatch(this.packages, input.target?.package)) return Mismatch.Package;
    if (this.when !== null && !this.when.timeMatches(input.now)) return Mismatch.Time;
    if (this.deviceState !== null && !this.stateHolds(input)) return Mismatch.DeviceState;
    return Mismatch.None;
  }

  // INVARIANT: unknown or stale state never satisfies a condition.
  private stateHolds(input: DecisionInput): boolean {
    const { state, stateReportedAt } = input.device;
    if (state === null || stateReportedAt === null || input.now - stateReportedAt > input.stateMaxAgeMs) return false;
    for (const [key, value] of this.deviceState!) if (state[key] !== value) return false;
    return true;
  }

  /** A readable reason for a mismatch, for the simulator. */
  explain(code: Mismatch, input: DecisionInput): string {
    const r = this.rule;
    switch (code) {
      case Mismatch.None:
        return 'matches';
      case Mismatch.Action:
        return `action '${input.action}' is not one of ${r.actions.join(', ')}`;
      case Mismatch.Device:
        return `device is in ${[...input.device.groups].join(', ') || 'no group'}, not in ${r.devices.join(', ')}`;
      case Mismatch.Enterprise:
        return `enterprise '${input.remoteUser.enterprise ?? '(none)'}' is not one of ${r.remoteUsers?.enterprises?.join(', ')}`;
      case Mismatch.User:
        return `remote user '${input.remoteUser.id}' does not match ${r.remoteUsers?.users?.join(', ')}`;
      case Mismatch.UserGroup:
        return `remote user's groups (${(input.remoteUser.groups ?? []).join(', ') || 'none'}) do not match ${r.remoteUsers?.groups?.join(', ')}`;
      case Mismatch.Path:
        return `target path '${input.target?.path ?? '(none)'}' does not match ${r.target?.paths?.join(', ')}`;
      case Mismatch.Package:
        return `target package '${input.target?.package ?? '(none)'}' does not match ${r.target?.packages?.join(', ')}`;
      case Mismatch.Time:
        return this.when!.firstNonMatch(input.now) ?? "outside the rule's time conditions";
      case Mismatch.DeviceState:
        return `device state does not satisfy ${JSON.stringify(r.when?.deviceState)} (or is unknown or older than three poll intervals)`;
    }
  }
}
