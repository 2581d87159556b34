import type { DeviceGrouper } from '../policies/engine/device-groups.js';
import type { DeviceEntity } from './device.entity.js';

/**
 * The groups a device is in: those it was given at enrollment plus those whose `match` its
 * model and site meet. A device enrolled with a scoped token is bounded by that token's
 * groups: a lab analyzer's token cannot make a device a CT scanner by its claimed model.
 */
export function groupsOfDevice(device: DeviceEntity, grouper: DeviceGrouper | null): Set<string> {
  const groups = grouper?.groupsOf({ ...device, deviceId: device.id }) ?? new Set(device.assignedGroups);
  if (device.groupScope === null || device.groupScope.length === 0) return groups;
  const scope = new Set(device.groupScope);
  return new Set([...groups].filter((g) => scope.has(g)));
}
