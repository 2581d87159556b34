import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildStaffAbility } from '../auth/abilities.js';
import type { PolicyService } from '../policies/policy.service.js';
import type { AccessDefinition } from '../policies/policy.types.js';
import { RolesService, type GroupIdentity } from '../users/roles.service.js';
import { canOnApproval, readScope, refusalFor } from './approver-rights.js';

/** RolesService over a given `access` list (the part of a policy set it reads). */
const rolesWith = (access: Omit<AccessDefinition, 'source'>[]) =>
  new RolesService({
    set: { access: access.map((a) => ({ ...a, source: { kind: 'console', id: 'test' } })) },
  } as unknown as PolicyService);
const local = (name: string): GroupIdentity => ({ name, source: 'local' });

describe('approver rights', () => {
  const roles = rolesWith([
    { group: 'Lab-Leads', role: 'approver', devices: ['lab-analyzers'] },
    { group: 'Night-Desk', role: 'viewer' },
    { group: 'CT-Approvers', role: 'approver', devices: ['ct-scanners'] },
  ]);
  const ctRequest = {
    deviceGroups: ['ct-scanners'],
    remoteUser: { id: 'jdoe@acme.example' },
    approval: { approvers: ['Night-Desk', 'CT-Approvers'] },
  };

  it('needs ONE group that is both named by the rule and gives deciding rights over the device', () => {
    // Lab approver (not named by the rule) + Night-Desk (named, but only a viewer): no.
    const mixed = { identities: ['pat'], groups: [local('Lab-Leads'), local('Night-Desk')] };
    expect(refusalFor(mixed, ctRequest, roles)).toMatch(/do not cover this request's device/);
    const ct = { identities: ['sam'], groups: [local('CT-Approvers')] };
    expect(refusalFor(ct, ctRequest, roles)).toBeUndefined();
    const lab = { identities: ['lee'], groups: [local('Lab-Leads')] };
    expect(refusalFor(lab, ctRequest, roles)).toMatch(/Only members of Night-Desk or CT-Approvers/);
  });

  it('refuses a request made under any of the person’s identities, whatever the case', () => {
    const sam = { identities: ['sam', 'jdoe@acme.example'], groups: [local('CT-Approvers')] };
    expect(refusalFor(sam, { ...ctRequest, remoteUser: { id: ' JDoe@Acme.example ' } }, roles)).toMatch(/own identity/);
  });

  it('filters the queue in SQL exactly as the abilities allow reading (readScope agrees with CASL)', () => {
    const deviceGroups = ['ct-scanners', 'mri-scanners', 'lab-analyzers', 'injectors'];
    const grant = fc.record({
      role: fc.constantFrom('admin', 'approver', 'auditor', 'viewer'),
      devices: fc.oneof(fc.constant('*' as const), fc.subarray(deviceGroups, { minLength: 1 })),
    });
    fc.assert(
      fc.property(fc.array(grant, { maxLength: 4 }), (list) => {
        const grants = list.map((g) => ({ ...g, via: [], from: [] }));
        const ability = buildStaffAbility(grants);
        const scope = readScope(grants);
        for (const group of deviceGroups) {
          expect(canOnApproval(ability, 'read', [group])).toBe(scope === '*' || scope.includes(group));
        }
      }),
    );
  });
});
