import { subject } from '@casl/ability';
import type { StaffAbility } from '../auth/abilities.js';
import type { RoleGrant } from '../auth/roles.js';
import { forbidden } from '../common/api-error.js';
import type { UserEntity } from '../users/user.entity.js';

/** What an approver must be to decide a request (policy-files.md, security-and-reliability.md 9). */
export interface DecidingApprover {
  user: Pick<UserEntity, 'id' | 'username' | 'email'>;
  /** The person's group names (local and directory). */
  groups: string[];
  ability: StaffAbility;
}

export interface RequestForApprovers {
  deviceGroups: string[];
  remoteUser: { id: string };
  approval: { approvers?: unknown } | null;
}

const lower = (s: string) => s.trim().toLowerCase();

/** The names a person goes by; a request whose remote user is one of them is their own. */
export function identitiesOf(user: Pick<UserEntity, 'username' | 'email'>): Set<string> {
  return new Set([user.username, user.email].filter((s): s is string => Boolean(s)).map(lower));
}

export function approverGroupsOf(request: RequestForApprovers): string[] {
  const groups = request.approval?.approvers;
  return Array.isArray(groups) ? groups.map(String) : [];
}

/**
 * Why this person may not decide this request, or undefined if they may: the request's
 * devices must be in their approver scope, they must belong to one of the rule's approver
 * groups, and it must not be their own request.
 */
export function refusalFor(approver: DecidingApprover, request: RequestForApprovers): string | undefined {
  if (!approver.ability.can('decide', subject('Approval', { deviceGroups: request.deviceGroups }) as never)) {
    return `This request's device (${request.deviceGroups.join(', ') || 'no group'}) is outside your approver scope`;
  }
  const theirs = new Set(approver.groups.map(lower));
  const allowed = approverGroupsOf(request);
  if (!allowed.some((g) => theirs.has(lower(g)))) {
    return `Only members of ${allowed.join(' or ')} may decide this request`;
  }
  if (identitiesOf(approver.user).has(lower(request.remoteUser.id))) {
    return 'You cannot decide a request made under your own identity';
  }
  return undefined;
}

export function assertMayDecide(approver: DecidingApprover, request: RequestForApprovers): void {
  const refusal = refusalFor(approver, request);
  if (refusal) throw forbidden(refusal);
}

/**
 * The device groups whose requests these roles may read: '*' for all. Every role reads
 * approvals in its device scope (abilities.ts), so the union of the scopes is the answer.
 */
export function readScope(grants: RoleGrant[]): '*' | string[] {
  if (grants.some((g) => g.devices === '*')) return '*';
  return [...new Set(grants.flatMap((g) => (g.devices === '*' ? [] : g.devices)))];
}
