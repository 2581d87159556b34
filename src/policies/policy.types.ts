/**
 * The policy set as Gatehouse holds it after loading and validating the files
 * (../shared/docs/policy-files.md). Everything here is plain data: the engine compiles it.
 */

export type Effect = 'allow' | 'ask' | 'deny';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Where a rule or entry came from: a file and line, or the console. */
export type RuleSource = { kind: 'file'; file: string; line: number } | { kind: 'console'; id: string };

export interface ApprovalSettings {
  approvers: string[];
  required: number;
  timeoutMinutes: number;
  maxGrantMinutes?: number;
}

/** A recurring window in local wall-clock time; `to` before `from` crosses midnight. */
export interface RecurringWindow {
  days: Weekday[];
  /** "HH:MM", inclusive. */
  from: string;
  /** "HH:MM", exclusive; "24:00" allowed for the end of the day. */
  to: string;
}

/** A one-off window in local time ("YYYY-MM-DDTHH:MM"). */
export interface DateWindow {
  from: string;
  to: string;
}

export interface WhenCondition {
  timezone?: string;
  windows?: RecurringWindow[];
  dates?: DateWindow[];
  validFrom?: Date;
  validUntil?: Date;
  /** Keys and values of reported device state, all of which must match (fresh state only). */
  deviceState?: Record<string, string | number | boolean>;
}

export interface PolicyRule {
  id: string;
  description?: string;
  effect: Effect;
  /** Action names or ['*']. */
  actions: string[];
  /** Device group names or ['*']. */
  devices: string[];
  remoteUsers?: { enterprises?: string[]; users?: string[]; groups?: string[] };
  target?: { paths?: string[]; packages?: string[]; versions?: string[]; sha256?: string[] };
  when?: WhenCondition;
  approval?: ApprovalSettings;
  /** `ask` only: a member of the emergency group may allow it alone, with a reason. */
  breakGlass?: boolean;
  /** context.ticket must be given (required) and match `pattern`; `check` is for the ITSM. */
  ticket?: TicketCondition;
  /** The allow answer carries obligations: ['local-consent']. */
  attended?: boolean;
  /** `allow` only: agents may use it while Gatehouse is unreachable. */
  offline?: boolean;
  source: RuleSource;
}

export interface TicketCondition {
  required?: boolean;
  /** A regular expression (validated) that context.ticket must match. */
  pattern?: string;
  /** The ITSM that must confirm the ticket (src/itsm): it exists, is open, and its window covers now. */
  check?: 'servicenow';
  /** What the rule does when the ITSM cannot answer (default deny); never allow. */
  onUnavailable?: 'deny' | 'ask';
  /** The ticket's configuration item (cmdb_ci, by name) must be the device id. */
  ciMatch?: boolean;
}

export interface DeviceGroupDefinition {
  name: string;
  /** Globs on enrolled device attributes (model, site, serialNumber, agentVersion, deviceId). */
  match?: Record<string, string[]>;
  devices?: string[];
  /** Who receives intervention reports on the group's devices, and how often. */
  reports?: { recipients: string[]; digest: ('daily' | 'weekly')[] };
  source: RuleSource;
}

export interface AccessDefinition {
  group: string;
  role: 'admin' | 'approver' | 'auditor' | 'viewer';
  devices?: string[];
  source: RuleSource;
}

export interface PolicySet {
  /** Content hash of the set (sha256 hex of its canonical form). */
  version: string;
  defaults: { effect: 'deny' | 'ask'; approval?: ApprovalSettings };
  deviceGroups: DeviceGroupDefinition[];
  access: AccessDefinition[];
  rules: PolicyRule[];
}

/** A validation problem, named by file, line and what is wrong. */
export interface PolicyProblem {
  file: string;
  line: number;
  message: string;
}
