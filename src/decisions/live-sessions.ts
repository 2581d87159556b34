import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DecisionRequestEntity } from './decision-request.entity.js';

/** Actions whose allow opens something that runs on until the agent reports it done. */
export const SESSION_ACTIONS = ['remote-session'];

/**
 * How long an allowed session counts as running when its agent never reports it done. A
 * session starts before its validUntil (the latest start) and runs on after it, so "live"
 * cannot end at validUntil; a day is longer than any service session worth ending, and
 * bounds what a heartbeat looks through.
 */
export const LONGEST_SESSION_MS = 24 * 3600_000;

/** Which allowed sessions to find: one request's, a device's, a vendor enterprise's, or those under grants. */
export type SessionFilter =
  { requestId: string } | { deviceId: string } | { enterprise: string } | { grantIds: string[] };

/**
 * Allowed remote sessions that have not completed, for "End now" (src/access/). The
 * decisions module owns decision_requests; other modules read sessions through here.
 */
@Injectable()
export class LiveSessions {
  constructor(private readonly dataSource: DataSource) {}

  /** Sessions allowed (by a rule, an approval or a grant), not completed, allowed less than LONGEST_SESSION_MS ago. */
  live(filter: SessionFilter, now: Date, manager: EntityManager = this.dataSource.manager) {
    const qb = this.open(manager).andWhere('r.created_at > :since', {
      since: new Date(now.getTime() - LONGEST_SESSION_MS),
    });
    if ('requestId' in filter) qb.andWhere('r.request_id = :requestId', filter);
    else if ('deviceId' in filter) qb.andWhere('r.device_id = :deviceId', filter);
    else if ('enterprise' in filter) qb.andWhere("r.remote_user ->> 'enterprise' = :enterprise", filter);
    else qb.andWhere('r.grant_id = ANY(:grantIds)', filter);
    return qb.getMany();
  }

  /** A device's sessions allowed since `since` and not completed, validUntil or not (time windows that close). */
  openSince(deviceId: string, since: Date): Promise<DecisionRequestEntity[]> {
    return this.open(this.dataSource.manager)
      .andWhere('r.device_id = :deviceId AND r.created_at > :since', { deviceId, since })
      .getMany();
  }

  find(requestId: string): Promise<DecisionRequestEntity | null> {
    return this.dataSource.getRepository(DecisionRequestEntity).findOneBy({ requestId });
  }

  private open(manager: EntityManager) {
    return manager
      .getRepository(DecisionRequestEntity)
      .createQueryBuilder('r')
      .where("r.status IN ('allowed', 'approved') AND r.completed_at IS NULL AND r.action = ANY(:actions)", {
        actions: SESSION_ACTIONS,
      });
  }
}
