import type { EntityManager } from 'typeorm';
import { buildStaffAbility } from '../../auth/abilities.js';
import type { RolesService } from '../../users/roles.service.js';
import { approverGroupsOf, refusalFor, type RequestForApprovers } from '../approver-rights.js';

export interface EligibleApprover {
  username: string;
  email: string | null;
}

/**
 * The people who may decide this request: enabled accounts in one of its approver groups,
 * with the device in their approver scope, who are not its remote user (the same test as
 * deciding, approver-rights.ts).
 */
export async function eligibleApprovers(
  m: EntityManager,
  roles: RolesService,
  request: RequestForApprovers,
): Promise<EligibleApprover[]> {
  const groups = approverGroupsOf(request).map((g) => g.toLowerCase());
  if (groups.length === 0) return [];
  const people = await m.query<{ id: string; username: string; email: string | null; groups: string[] }[]>(
    `SELECT u.id, u.username, u.email, array_agg(g.name) AS groups
       FROM users u JOIN group_members gm ON gm.user_id = u.id JOIN groups g ON g.id = gm.group_id
      WHERE NOT u.disabled
        AND u.id IN (SELECT m2.user_id FROM group_members m2 JOIN groups g2 ON g2.id = m2.group_id
                      WHERE lower(g2.name) = ANY($1))
      GROUP BY u.id, u.username, u.email
      ORDER BY u.username`,
    [groups],
  );
  return people
    .filter(
      (p) => !refusalFor({ user: p, groups: p.groups, ability: buildStaffAbility(roles.grantsFor(p.groups)) }, request),
    )
    .map((p) => ({ username: p.username, email: p.email }));
}

/** Where e-mail about this request goes: the eligible approvers who have an address. */
export async function approverAddresses(
  m: EntityManager,
  roles: RolesService,
  request: RequestForApprovers,
): Promise<string[]> {
  return (await eligibleApprovers(m, roles, request))
    .map((p) => p.email)
    .filter((e): e is string => e !== null)
    .sort();
}
