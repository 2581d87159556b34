import { Injectable } from '@nestjs/common';
import { PolicyService } from '../policies/policy.service.js';
import { BUILTIN_ADMIN_GROUP, type RoleBinding } from '../auth/roles.js';
import { normalizeGroupRef } from '../directory/ldap-filter.js';

/** A group a person is in, with every spelling the policy files may use for it. */
export interface GroupIdentity {
  name: string;
  source: 'local' | 'directory';
  /** Normalised CN and DN of a directory group (groups.aliases). */
  aliases?: readonly string[];
}

const normalizedRefs = new Map<string, string>();

/** normalizeGroupRef, remembered: the references come from the policy files and repeat for every person. */
function normalizedRef(ref: string): string {
  let value = normalizedRefs.get(ref);
  if (value === undefined) {
    if (normalizedRefs.size > 10_000) normalizedRefs.clear();
    value = normalizeGroupRef(ref);
    normalizedRefs.set(ref, value);
  }
  return value;
}

/**
 * Whether a group reference of the policy files (`access[].group`, rule approver groups) names
 * this group: by name, or for a directory group also by CN or DN, case-insensitively.
 */
export function groupMatches(group: GroupIdentity, ref: string): boolean {
  const wanted = normalizedRef(ref);
  return group.name.toLowerCase() === wanted || (group.aliases ?? []).includes(wanted);
}

/** Turns a person's groups into role bindings: the `access` key plus the built-in administrators group. */
@Injectable()
export class RolesService {
  constructor(private readonly policies: PolicyService) {}

  /** Plain names count as local groups. */
  roleBindingsFor(groups: (string | GroupIdentity)[]): RoleBinding[] {
    const identities = groups.map((g): GroupIdentity => (typeof g === 'string' ? { name: g, source: 'local' } : g));
    const bindings: RoleBinding[] = [];
    // INVARIANT: only the LOCAL group gives break-glass admin; a directory group of the same name does not.
    const builtin = identities.find((g) => g.source === 'local' && g.name.toLowerCase() === BUILTIN_ADMIN_GROUP);
    if (builtin) {
      bindings.push({
        role: 'admin',
        devices: '*',
        via: [BUILTIN_ADMIN_GROUP],
        from: [{ group: builtin.name, source: 'local' }],
      });
    }
    // Without a valid policy set only the built-in administrators group holds a role.
    for (const entry of this.policies.set?.access ?? []) {
      const matched = identities.filter((g) => groupMatches(g, entry.group));
      if (matched.length === 0) continue;
      const from = matched.map((g) => ({ group: g.name, source: g.source }));
      const devices = entry.devices ?? '*';
      const same = bindings.find((b) => b.role === entry.role && sameScope(b.devices, devices));
      if (same) {
        same.via.push(entry.group);
        for (const f of from) if (!same.from.some((x) => x.group === f.group)) same.from.push(f);
      } else {
        bindings.push({ role: entry.role, devices, via: [entry.group], from });
      }
    }
    return bindings;
  }
}

function sameScope(a: RoleBinding['devices'], b: RoleBinding['devices']): boolean {
  if (a === '*' || b === '*') return a === b;
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** A readable summary of roles for audit records: "approver[ct-scanners]", "admin[*]". */
export function describeRoleBindings(bindings: RoleBinding[]): string[] {
  return bindings.map((b) => `${b.role}[${b.devices === '*' ? '*' : [...b.devices].sort().join(',')}]`).sort();
}
