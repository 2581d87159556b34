import { AbilityBuilder, createMongoAbility, type MongoAbility } from '@casl/ability';
import type { RoleBinding } from './roles.js';

export type Action = 'read' | 'create' | 'update' | 'delete' | 'manage' | 'decide' | 'verify';
export type Subject =
  'AuditRecord' | 'User' | 'Group' | 'Device' | 'EnrollmentToken' | 'Policy' | 'Approval' | 'Directory' | 'all';

export type StaffAbility = MongoAbility<[Action, Subject]>;

/** Subjects whose records belong to devices; a scoped role sees only its device groups. */
const DEVICE_SCOPED: Subject[] = ['Device', 'Approval'];

/**
 * Staff abilities from roles. Conditions are built here from validated role bindings
 * only (never from administrator-written text).
 */
export function buildStaffAbility(bindings: RoleBinding[]): StaffAbility {
  const { can, cannot, build } = new AbilityBuilder<StaffAbility>(createMongoAbility);
  for (const binding of bindings) {
    const scope = binding.devices === '*' ? undefined : { deviceGroups: { $in: binding.devices } };
    const scoped = (action: Action, subject: Subject) => {
      if (DEVICE_SCOPED.includes(subject) && scope) can(action, subject, scope as never);
      else can(action, subject);
    };
    switch (binding.role) {
      case 'admin':
        for (const subject of ['User', 'Group', 'EnrollmentToken', 'Policy', 'Directory'] as Subject[]) {
          can('manage', subject);
        }
        for (const subject of DEVICE_SCOPED) scoped('manage', subject);
        can('read', 'AuditRecord');
        can('verify', 'AuditRecord');
        break;
      case 'approver':
        scoped('read', 'Device');
        scoped('read', 'Approval');
        scoped('decide', 'Approval');
        can('read', 'Policy');
        break;
      case 'auditor':
        for (const subject of ['User', 'Group', 'EnrollmentToken', 'Policy', 'Directory', 'AuditRecord'] as Subject[]) {
          can('read', subject);
        }
        for (const subject of DEVICE_SCOPED) scoped('read', subject);
        can('verify', 'AuditRecord');
        break;
      case 'viewer':
        scoped('read', 'Device');
        scoped('read', 'Approval');
        can('read', 'Policy');
        break;
      default: {
        const unknownRole: never = binding.role;
        throw new Error(`Unknown role ${String(unknownRole)}`);
      }
    }
  }
  // INVARIANT: no role may change or delete audit records.
  // ('manage' is CASL's wildcard for every action, so it must not appear here.)
  cannot(['update', 'delete', 'create'], 'AuditRecord');
  return build();
}
