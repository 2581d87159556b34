/**
 * The words of the policy files (../shared/docs/policy-files.md): actions, name forms,
 * weekdays, device attributes, and what an approval block that leaves fields out gets.
 */
/** The actions of the agent API (../shared/docs/agent-api.md, "Action catalogue"). */
export const ACTION_CATALOGUE = [
  'remote-session',
  'file-upload',
  'file-download',
  'log-upload',
  'software-install',
  'script-run',
  'config-change',
  'restart',
] as const;

/** A custom action: `x-` and a lowercase name. */
export const CUSTOM_ACTION_PATTERN = /^x-[a-z0-9][a-z0-9._-]{0,97}$/;

/** Rule ids and device group names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The enrolled device attributes that a device group may match on. */
export const DEVICE_ATTRIBUTES = ['model', 'site', 'serialNumber', 'agentVersion', 'deviceId'] as const;

/** What an approval block that leaves these out gets (after `defaults.approval`). */
export const APPROVAL_DEFAULTS = { required: 1, timeoutMinutes: 60 } as const;
