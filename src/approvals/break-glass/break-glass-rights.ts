import type { StaffAbility } from '../../auth/abilities.js';
import { groupMatches } from '../../users/roles.service.js';
import { canOnApproval, type Approver } from '../approver-rights.js';

/** What the break-glass checks read of a request. */
export interface BreakGlassRequest {
  deviceGroups: string[];
  remoteUser: { id: string };
  ruleIds: string[];
  approval: { breakGlass?: unknown } | null;
}

/**
 * Why this person may not break the glass at all: they are not in an emergency group
 * (BREAK_GLASS_GROUPS). Undefined if they are.
 */
export function emergencyRefusal(emergencyGroups: string[], person: Approver): string | undefined {
  if (person.groups.some((g) => emergencyGroups.some((ref) => groupMatches(g, ref)))) return undefined;
  return emergencyGroups.length === 0
    ? 'Break-glass is not set up here (BREAK_GLASS_GROUPS is empty)'
    : `Only members of ${emergencyGroups.join(' or ')} may break the glass`;
}

/**
 * Why this emergency-group member may not break the glass on this request (its status
 * aside: a request no longer pending is a 409, not a refusal). The one test for the API
 * (BreakGlassService) and for showing the console's button (`youMayBreakGlass`).
 */
export function requestRefusal(
  ability: StaffAbility,
  person: Approver,
  request: BreakGlassRequest,
): string | undefined {
  if (!canOnApproval(ability, 'decide', request.deviceGroups)) {
    return `Your scope does not cover this request's device (${request.deviceGroups.join(', ')})`;
  }
  // Self-approval rules still hold (security-and-reliability.md 9).
  if (person.identities.includes(request.remoteUser.id.trim().toLowerCase())) {
    return 'You cannot decide a request made under your own identity';
  }
  if (request.approval?.breakGlass !== true) {
    return `The rules behind this request (${request.ruleIds.join(', ') || 'default'}) allow no break-glass`;
  }
  return undefined;
}

export function breakGlassRefusal(
  emergencyGroups: string[],
  ability: StaffAbility,
  person: Approver,
  request: BreakGlassRequest,
): string | undefined {
  return emergencyRefusal(emergencyGroups, person) ?? requestRefusal(ability, person, request);
}

/**
 * Why this person may not review this break-glass use: `approverRefusal` is why they may
 * not decide the request (Approvers.refusal: approver group, scope, own request); and the
 * person who broke the glass never reviews it. Undefined if they may.
 */
export function reviewRefusal(
  approverRefusal: string | undefined,
  use: { userId: string },
  userId: string,
): string | undefined {
  return approverRefusal ?? (use.userId === userId ? 'Another approver must review your break-glass' : undefined);
}
