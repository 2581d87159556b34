import { NAME_PATTERN } from '../policies/policy-vocabulary.js';

/** The device_group label of decisions by devices in none of METRICS_DEVICE_GROUPS. */
export const OTHER_DEVICE_GROUP = 'other';
/** Each listed group adds 3 effects × 9 actions series: the list stays short. */
export const MAX_METRICS_DEVICE_GROUPS = 20;

export const splitList = (list: string): string[] => [
  ...new Set(
    list
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean),
  ),
];

/** Why METRICS_DEVICE_GROUPS is not a list of device group names (policy-files.md), or undefined. */
export function deviceGroupListProblem(list: string): string | undefined {
  const groups = splitList(list);
  const bad = groups.find((g) => !NAME_PATTERN.test(g));
  if (bad !== undefined) {
    return `bad device group name '${bad}': expected names from deviceGroups, comma-separated, such as ct-scanners,mri-scanners`;
  }
  if (groups.includes(OTHER_DEVICE_GROUP)) {
    return `'${OTHER_DEVICE_GROUP}' is the label of devices in none of the listed groups: leave it out`;
  }
  if (groups.length > MAX_METRICS_DEVICE_GROUPS) {
    return `${groups.length} groups: at most ${MAX_METRICS_DEVICE_GROUPS} (each adds 27 series to every scrape)`;
  }
  return undefined;
}
