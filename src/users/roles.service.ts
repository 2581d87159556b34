import { Injectable } from '@nestjs/common';
import { PolicyService } from '../policies/policy.service.js';
import { BUILTIN_ADMIN_GROUP, type RoleGrant } from '../auth/roles.js';

/** Turns a person's groups into role grants: the `access` key plus the built-in administrators group. */
@Injectable()
export class RolesService {
  constructor(private readonly policies: PolicyService) {}

  grantsFor(groupNames: string[]): RoleGrant[] {
    const lower = new Set(groupNames.map((g) => g.toLowerCase()));
    const grants: RoleGrant[] = [];
    if (lower.has(BUILTIN_ADMIN_GROUP)) grants.push({ role: 'admin', devices: '*', via: [BUILTIN_ADMIN_GROUP] });
    // Without a valid policy set only the built-in administrators group holds a role.
    for (const entry of this.policies.set?.access ?? []) {
      if (!lower.has(entry.group.toLowerCase())) continue;
      const devices = entry.devices ?? '*';
      const same = grants.find((g) => g.role === entry.role && sameScope(g.devices, devices));
      if (same) same.via.push(entry.group);
      else grants.push({ role: entry.role, devices, via: [entry.group] });
    }
    return grants;
  }
}

function sameScope(a: RoleGrant['devices'], b: RoleGrant['devices']): boolean {
  if (a === '*' || b === '*') return a === b;
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** A readable summary of roles for audit records: "approver[ct-scanners]", "admin[*]". */
export function describeGrants(grants: RoleGrant[]): string[] {
  return grants.map((g) => `${g.role}[${g.devices === '*' ? '*' : [...g.devices].sort().join(',')}]`).sort();
}
