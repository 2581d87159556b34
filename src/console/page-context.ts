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
  /** Requests waiting for this person, for the menu's badge. */
  pendingCount?: string;
}
