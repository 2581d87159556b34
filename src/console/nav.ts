import type { Action, Subject } from '../auth/abilities.js';
import type { StaffPrincipal } from '../auth/principal.js';

export interface NavEntry {
  href: string;
  label: string;
  /** The permission its page requires (the page's @ConsolePage says the same). */
  action: Action;
  subject: Subject;
  /** Shows the number of requests waiting. */
  badge?: 'pending';
}

/** The console's menu, in order. A new page adds its entry here. */
export const NAV: NavEntry[] = [
  { href: '/approvals', label: 'Inbox', action: 'read', subject: 'Approval', badge: 'pending' },
  { href: '/grants', label: 'Live grants', action: 'read', subject: 'Approval' },
  { href: '/devices', label: 'Devices', action: 'read', subject: 'Device' },
  { href: '/enrollment-tokens', label: 'Enrollment tokens', action: 'read', subject: 'EnrollmentToken' },
  { href: '/policies', label: 'Rules', action: 'read', subject: 'Policy' },
  { href: '/directory', label: 'Directory', action: 'read', subject: 'Directory' },
  { href: '/users', label: 'People', action: 'read', subject: 'User' },
  { href: '/audit', label: 'Audit trail', action: 'read', subject: 'AuditRecord' },
];

/** The one permission check for showing a menu entry or a button: the same CASL ability the server enforces. */
export function may(staff: StaffPrincipal | null, action: Action, subject: Subject): boolean {
  return staff !== null && staff.ability.can(action, subject);
}

export function visibleNav(staff: StaffPrincipal | null): NavEntry[] {
  return NAV.filter((entry) => may(staff, entry.action, entry.subject));
}
