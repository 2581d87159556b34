import { subject } from '@casl/ability';
import { buildStaffAbility, type Action, type StaffAbility } from '../auth/abilities.js';
import type { RoleBinding } from '../auth/roles.js';
import { groupMatches, type GroupIdentity, type RolesService } from '../users/roles.service.js';

/** A person as the approval rules see them. */
export interface Approver {
  /** Every name they go by (user name, e-mail, UPN), lower case: a request under one is their own. */
  identities: string[];
  /** Their groups (local and directory, nested memberships included). */
  groups: GroupIdentity[];
}

export interface RequestForApprovers {
  deviceGroups: string[];
  remoteUser: { id: string };
  approval: { approvers?: unknown } | null;
}

export function approverGroupsOf(request: RequestForApprovers): string[] {
  const groups = request.approval?.approvers;
  return Array.isArray(groups) ? groups.map(String) : [];
}

/** Whether `ability` allows `action` on approvals of devices in these groups. */
export const canOnApproval = (ability: StaffAbility, action: Action, deviceGroups: string[]): boolean =>
  ability.can(action, subject('Approval', { deviceGroups }) as never);

/**
 * Why this person may not decide this request, or undefined if they may
 * (policy-files.md; security-and-reliability.md 9). They need a group that is BOTH one of
 * the request's approver groups AND gives them the right to decide for its devices
 * (`access`): being an approver for the lab through one group and a member of a CT
 * approver group without CT scope does not add up to deciding for CT. And it must not be
 * their own request.
 */
export function refusalFor(approver: Approver, request: RequestForApprovers, roles: RolesService): string | undefined {
  const named = approverGroupsOf(request);
  const theirs = approver.groups.filter((g) => named.some((ref) => groupMatches(g, ref)));
  if (theirs.length === 0) return `Only members of ${named.join(' or ')} may decide this request`;
  if (!canOnApproval(buildStaffAbility(roles.roleBindingsFor(theirs)), 'decide', request.deviceGroups)) {
    return `Your approver groups do not cover this request's device (${request.deviceGroups.join(', ') || 'no group'})`;
  }
  if (approver.identities.includes(request.remoteUser.id.trim().toLowerCase())) {
    return 'You cannot decide a request made under your own identity';
  }
  return undefined;
}

/**
 * The device groups whose approvals these roles may read, for filtering in SQL: '*' for
 * all. Every role reads approvals in its device scope (abilities.ts buildStaffAbility), so
 * this is the union of the scopes; approver-rights.spec.ts checks it against the ability.
 */
export function readScope(bindings: RoleBinding[]): '*' | string[] {
  if (bindings.some((b) => b.devices === '*')) return '*';
  return [...new Set(bindings.flatMap((b) => (b.devices === '*' ? [] : b.devices)))];
}
