import type { EntityManager } from 'typeorm';
import type { Origin } from '../audit/actor.js';
import type { DecisionRequestEntity } from './decision-request.entity.js';
import type { GrantKeyParts } from '../approvals/grants/grant-lookup.js';

/**
 * What the agent's decision calls need from "End now" (src/access/, which depends on this
 * module and so plugs itself in here rather than being imported).
 */
export interface AccessEndsHook {
  /** The end of this request's access, if the hospital ended it. */
  endOf(requestId: string): Promise<{ reason: string } | null>;
  /** Why a repeat of an approved request is denied because its grant was ended (null: it is not). */
  refusalFor(key: GrantKeyParts, now: Date): Promise<string | null>;
  /** In the transaction of the agent's `complete`: the agent confirms that an ended access stopped. */
  confirmIn(
    m: EntityManager,
    request: DecisionRequestEntity,
    outcome: Record<string, unknown>,
    origin: Origin,
  ): Promise<void>;
}
