import type { EntityManager } from 'typeorm';
import { buildStaffAbility } from '../../auth/abilities.js';
import type { RolesService } from '../../users/roles.service.js';
import { approverGroupsOf, refusalFor, type RequestForApprovers } from '../approver-rights.js';

/**
 * The e-mail addresses of the people who may decide this request: enabled accounts
 * with an address, in one of its approver groups, with the device in their approver
 * scope, and not the remote user themselves (the same test as deciding, approver-rights.ts).
 */
export async function approverAddresses(
  m: EntityManager,
  roles: RolesService,
  request: RequestForApprovers,
): Promise<string[]> {
  const groups = approverGroupsOf(request).map((g) => g.toLowerCase());
  if (groups.length === 0) return [];
  const people = await m.query<{ id: string; username: string; email: string; groups: string[] }[]>(
    `SELECT u.id, u.username, u.email, array_agg(g.name) AS groups
       FROM users u JOIN group_members gm ON gm.user_id = u.id JOIN groups g ON g.id = gm.group_id
      WHERE NOT u.disabled AND u.email IS NOT NULL
        AND u.id IN (SELECT m2.user_id FROM group_members m2 JOIN groups g2 ON g2.id = m2.group_id
                      WHERE lower(g2.name) = ANY($1))
      GROUP BY u.id, u.username, u.email`,
    [groups],
  );
  return people
    .filter(
      (p) => !refusalFor({ user: p, groups: p.groups, ability: buildStaffAbility(roles.grantsFor(p.groups)) }, request),
    )
    .map((p) => p.email)
    .sort();
}
