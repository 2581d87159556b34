import type { Clock } from '../common/clock.js';

/** Long enough for the redirect after the form; a page never fetched loses its secret soon. */
const KEEP_MS = 60_000;
/** Sessions with something waiting at once, at most: a bound on memory, not a quota anyone meets. */
const MAX_WAITING = 1000;

/**
 * A secret that a form made and that the next page shows once (Post/Redirect/Get): kept
 * here, in this process's memory, keyed by the console session, and handed out once. So the
 * secret is in no URL, log, cookie or database row, and reloading the page neither shows it
 * again nor sends the form again. Behind a load balancer, the redirect must reach the same
 * replica (sticky sessions); otherwise the page says the secret was made but is not shown.
 * Each page that needs one makes its own (`new ShownOnce<…>(clock)`).
 */
export class ShownOnce<T = unknown> {
  private readonly waiting = new Map<string, { value: T; until: number }>();

  constructor(private readonly clock: Clock) {}

  /** Keeps `value` for the session's next page (replacing what it had not fetched). */
  put(sessionId: string, value: T): void {
    const now = this.clock.now().getTime();
    for (const [id, entry] of this.waiting) if (entry.until <= now) this.waiting.delete(id);
    this.waiting.delete(sessionId); // re-inserted last: the oldest entries are first in the map
    if (this.waiting.size >= MAX_WAITING) this.waiting.delete(this.waiting.keys().next().value!);
    this.waiting.set(sessionId, { value, until: now + KEEP_MS });
  }

  /** The session's waiting value, removed as it is read; undefined if none (or too old). */
  take(sessionId: string): T | undefined {
    const entry = this.waiting.get(sessionId);
    if (!entry) return undefined;
    this.waiting.delete(sessionId);
    return entry.until > this.clock.now().getTime() ? entry.value : undefined;
  }
}
