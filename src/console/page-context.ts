import type { StaffPrincipal } from '../auth/principal.js';

/** What every console page knows about its request. */
export interface PageContext {
  staff: StaffPrincipal | null;
  /** The session's CSRF token, for forms and htmx's headers; null before sign-in. */
  csrfToken: string | null;
  timeZone: string;
  /** The path of the page shown (for the menu's current entry). */
  path: string;
  now: Date;
  /** What runs: Gatehouse's version and the policy set in force (null before one loads), for the footer. */
  versions: { gatehouse: string; policySet: string | null };
  /** Requests waiting for this person, for the menu's badge. */
  pendingCount?: string;
}
