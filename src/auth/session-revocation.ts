import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Ends people's sessions for other modules (a new password, a disabled account, a person
 * gone from the directory): auth owns the sessions table, so they ask here. It runs in the
 * caller's transaction, so the sessions end exactly when the change that ends them commits.
 */
@Injectable()
export class SessionRevocation {
  async endAllOf(m: EntityManager, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await m.query('UPDATE sessions SET revoked_at = now() WHERE user_id = ANY($1::uuid[]) AND revoked_at IS NULL', [
      userIds,
    ]);
  }
}
