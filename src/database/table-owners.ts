/**
 * One owner per table (issue 11 item 11): each table, and each SQL function that writes
 * tables, belongs to one module folder under src/. Only that folder's code names it (in SQL
 * text or by importing its entity); every other module goes through the owner's service.
 * src/database/table-owners.spec.ts enforces this; src/database/README.md shows the map.
 */

/** A module folder under src/. */
export type ModuleName =
  | 'access'
  | 'agent-policy'
  | 'approvals'
  | 'audit'
  | 'auth'
  | 'backup'
  | 'cli'
  | 'common'
  | 'config'
  | 'console'
  | 'database'
  | 'decisions'
  | 'devices'
  | 'directory'
  | 'health'
  | 'metrics'
  | 'openapi'
  | 'policies'
  | 'reports'
  | 'signing'
  | 'throttling'
  | 'users';

/** Table -> the module that owns it (its entity lives in that module's folder). */
export const TABLE_OWNERS: Readonly<Record<string, ModuleName>> = {
  users: 'users',
  groups: 'users',
  group_members: 'users',
  sessions: 'auth',
  login_throttle: 'auth',
  settings: 'database',
  audit_records: 'audit',
  audit_checkpoints: 'audit',
  signing_keys: 'signing',
  devices: 'devices',
  enrollment_tokens: 'devices',
  policy_versions: 'policies',
  console_rules: 'policies',
  decision_requests: 'decisions',
  approval_votes: 'approvals',
  grants: 'approvals',
  notifications: 'approvals',
  approval_notices: 'approvals',
  break_glass_uses: 'approvals',
  directory_users: 'directory',
  directory_groups: 'directory',
  access_ends: 'access',
  offline_policy_issues: 'agent-policy',
  audit_forward_cursors: 'audit',
  audit_inbox: 'audit',
};

/** SQL functions (migrations define them) -> the module whose code may call them. */
export const SQL_FUNCTION_OWNERS: Readonly<Record<string, ModuleName>> = {
  audit_append: 'audit',
  audit_enqueue: 'audit',
  audit_seal: 'audit',
  audit_seal_locked: 'audit',
  record_decisions: 'decisions',
};

/**
 * Where a module may name another's table or entity, and why. `names` lists table or SQL
 * function names; '*' is every one. `file` narrows it to one file (path under src/).
 */
export interface OwnershipException {
  module: ModuleName;
  file?: string;
  names: readonly string[] | '*';
  /** Allows reading only (SQL FROM/JOIN): a write there still fails the check. */
  readOnly?: true;
  reason: string;
}

export const OWNERSHIP_EXCEPTIONS: readonly OwnershipException[] = [
  {
    module: 'database',
    file: 'database/entities.ts',
    names: '*',
    reason: 'the one list of every entity, for the DataSource and the migration check',
  },
  {
    module: 'database',
    file: 'database/table-owners.spec.ts',
    names: '*',
    reason: 'its samples of forbidden references, to show the check catches them',
  },
  // Foreign keys: a TypeORM relation names the entity it points at; it neither reads nor writes it.
  { module: 'auth', file: 'auth/session.entity.ts', names: ['users'], reason: 'foreign key sessions.user_id' },
  {
    module: 'directory',
    file: 'directory/directory-user.entity.ts',
    names: ['users'],
    reason: 'foreign key directory_users.user_id',
  },
  {
    module: 'directory',
    file: 'directory/directory-group.entity.ts',
    names: ['groups'],
    reason: 'foreign key directory_groups.group_id',
  },
  // The sync's reads of its starting point join the directory's rows to the people and groups
  // they are (one query each, over every synced account); its writes go through
  // users/directory-accounts.ts.
  ...['directory/directory-store.ts', 'directory/store-groups.ts', 'directory/store-users.ts'].map(
    (file): OwnershipException => ({
      module: 'directory',
      file,
      names: ['users', 'groups', 'group_members'],
      readOnly: true,
      reason:
        'read-only joins of directory_users/directory_groups with users/groups (writes: users/directory-accounts.ts)',
    }),
  ),
  {
    module: 'directory',
    file: 'directory/directory-auth.service.ts',
    names: ['users'],
    readOnly: true,
    reason:
      'sign-in finds the account by a read-only join of directory_users with users (the user itself: UsersService)',
  },
  {
    module: 'approvals',
    file: 'approvals/approval-jobs.ts',
    names: ['decision_requests'],
    readOnly: true,
    reason:
      'each announcement marks approval_notices for the requests it selects in the same statement (a read-only join)',
  },
  // A backup is a logical dump: it copies every table named in TABLE_OWNERS as it is, by name
  // from this map, in one snapshot (restore writes them back into an empty database). Besides
  // the copy, it reads the chain head it ends at and the key that signs that head, in the same
  // snapshot (an owner's service would read them outside it).
  {
    module: 'backup',
    file: 'backup/snapshot-dump.ts',
    names: ['audit_records', 'signing_keys'],
    readOnly: true,
    reason: "the audit head and the current signing key, read in the backup's own snapshot",
  },
  // Reads where one query is the point (each would otherwise be several round trips on a hot
  // or paged path); writes to these tables go through their owners. Where a file reads through
  // the owner's entity (a repository find), the check cannot tell a read from a write: those
  // entries are not marked read-only, and review keeps them to reads.
  ...reads([
    [
      'approvals/approval-queue.ts',
      ['audit_records', 'decision_requests', 'devices'],
      "the queue's filtered, keyset-paged page joins requests, votes, grants and devices in one query",
      'through entities',
    ],
    [
      'approvals/approvers.ts',
      ['directory_users', 'group_members', 'groups', 'users'],
      'who may decide: people with their groups and directory DN, one query per request',
    ],
    [
      'audit/audit-search.service.ts',
      ['devices'],
      "its deviceGroup filter places devices without their group scope, unlike DevicesService's groups",
      'through entities',
    ],
    [
      'auth/sessions.service.ts',
      ['users'],
      'resume() runs on every staff request: one join of sessions and users, not two reads',
      'through entities',
    ],
  ]),
];

function reads(
  entries: [file: string, names: string[], reason: string, how?: 'through entities'][],
): OwnershipException[] {
  return entries.map(([file, names, reason, how]) => ({
    module: file.split('/')[0] as ModuleName,
    file,
    names,
    ...(how ? {} : { readOnly: true as const }),
    reason,
  }));
}
