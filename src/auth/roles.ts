/** Staff roles of policy-files.md, from the most to the least powerful. */
export const ROLES = ['admin', 'approver', 'auditor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * A role held over a device scope ('*' for all devices, else device group names), from the
 * `access` entries of the policy files or the built-in administrators group. Named a
 * binding, not a grant: in Gatehouse a grant is only an approval's repeated access.
 */
export interface RoleBinding {
  role: Role;
  devices: '*' | string[];
  /** The groups that give this role (shown by /auth/me). */
  via: string[];
  /** The person's groups that matched, and where each comes from (local store or directory). */
  from: { group: string; source: 'local' | 'directory' }[];
}

/**
 * INVARIANT: members of this local group are administrators whatever the policy files
 * say, so the break-glass administrator keeps working when the files are broken.
 */
export const BUILTIN_ADMIN_GROUP = 'gatehouse-admins';
