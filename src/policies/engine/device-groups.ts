import { compileGlob } from '../globs.js';
import type { DeviceGroupDefinition } from '../policy.types.js';

/** What the policy files' `match` globs may look at. */
export interface DeviceAttributes {
  deviceId: string;
  model: string;
  site: string | null;
  serialNumber: string | null;
  agentVersion: string | null;
  /** Groups given at enrollment (the enrollment token's scope). */
  assignedGroups: readonly string[];
}

/** A device is in a group when it is listed, when every `match` attribute matches one of its globs, or when assigned. */
export class DeviceGrouper {
  private readonly groups: { name: string; members: Set<string>; match: [keyof DeviceAttributes, RegExp[]][] | null }[];

  constructor(definitions: DeviceGroupDefinition[]) {
    this.groups = definitions.map((d) => ({
      name: d.name,
      members: new Set(d.devices ?? []),
      match: d.match
        ? Object.entries(d.match).map(([attr, globs]) => [
            attr as keyof DeviceAttributes,
            globs.map((g) => compileGlob(g, 'name')),
          ])
        : null,
    }));
  }

  groupsOf(device: DeviceAttributes): Set<string> {
    const result = new Set(device.assignedGroups);
    for (const group of this.groups) {
      if (group.members.has(device.deviceId) || (group.match !== null && matchesAll(group.match, device))) {
        result.add(group.name);
      }
    }
    return result;
  }
}

function matchesAll(match: [keyof DeviceAttributes, RegExp[]][], device: DeviceAttributes): boolean {
  for (const [attr, globs] of match) {
    const value = device[attr];
    if (typeof value !== 'string' || !globs.some((g) => g.test(value))) return false;
  }
  return true;
}
