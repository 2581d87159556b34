import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { canonicalJson } from '../../audit/audit-chain.js';
import { GrantEntity } from './grant.entity.js';

/** A grant as other modules see it: read through GrantLookup, never written by them. */
export type Grant = Readonly<GrantEntity>;

/** What makes two requests "the same request" for a grant (policy-files.md). */
export interface GrantKeyParts {
  deviceId: string;
  action: string;
  remoteUserId: string;
  target: Record<string, string> | null | undefined;
}

export const targetKey = (target: GrantKeyParts['target']): string =>
  target && Object.keys(target).length > 0 ? canonicalJson(target) : '';

/**
 * Finds the live grant for a repeat of an approved request. It is asked only when the
 * engine says `ask` (the rare case), so it reads the database every time: a grant made or
 * ended on any replica counts at once, with no cache to go stale. (DecisionWriter checks
 * the grant again in the transaction that records the answer.)
 */
@Injectable()
export class GrantLookup {
  constructor(@InjectRepository(GrantEntity) private readonly grants: Repository<GrantEntity>) {}

  async find(parts: GrantKeyParts, now: Date): Promise<Grant | null> {
    return this.grants
      .createQueryBuilder('g')
      .where('g.device_id = :deviceId AND g.action = :action AND g.remote_user_id = :remoteUserId', parts)
      .andWhere('g.target_key = :target AND g.ended_at IS NULL AND g.expires_at > :now', {
        target: targetKey(parts.target),
        now,
      })
      .orderBy('g.expires_at', 'DESC')
      .getOne();
  }

  /** The grant an approval of this request made, live or not (a request's story); in the caller's transaction when given one. */
  byRequest(requestId: string, m?: EntityManager): Promise<Grant | null> {
    return (m ? m.getRepository(GrantEntity) : this.grants).findOneBy({ requestId });
  }

  /**
   * The requests whose grants ran out (were not ended) in (after, upTo]: the report job asks
   * each round for the span since its last, in its own transaction.
   */
  async ranOutBetween(m: EntityManager, after: Date | string, upTo: Date): Promise<string[]> {
    const rows = await m.query<{ request_id: string }[]>(
      'SELECT request_id FROM grants WHERE ended_at IS NULL AND expires_at > $1 AND expires_at <= $2',
      [after, upTo],
    );
    return rows.map((g) => g.request_id);
  }
}
