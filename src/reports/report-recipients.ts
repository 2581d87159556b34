import type { PolicySet } from '../policies/policy.types.js';

/** Who gets a device's reports: the `reports.recipients` of each of its groups (policy files), once each. */
export function reportRecipients(set: PolicySet | null, deviceGroups: string[]): string[] {
  const recipients = new Set<string>();
  for (const group of set?.deviceGroups ?? []) {
    if (deviceGroups.includes(group.name)) for (const r of group.reports?.recipients ?? []) recipients.add(r);
  }
  return [...recipients].sort();
}
