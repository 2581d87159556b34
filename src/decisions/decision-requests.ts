import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type EntityManager, type Repository } from 'typeorm';
import { DecisionRequestEntity } from './decision-request.entity.js';
import { EXPIRED_REASON } from './decision-view.js';

/** The answer approvers gave a pending request. */
export interface Settlement {
  status: 'approved' | 'rejected';
  decidedAt: Date;
  validUntil: Date | null;
  reason: string;
}

/**
 * The requests' state changes that other modules ask for (approvals: votes and expiry), and
 * the reads they need: decisions owns decision_requests. Methods that take an EntityManager
 * run in the caller's transaction, so a vote or an expiry commits with its audit records.
 */
@Injectable()
export class DecisionRequests {
  constructor(@InjectRepository(DecisionRequestEntity) private readonly requests: Repository<DecisionRequestEntity>) {}

  get(requestId: string): Promise<DecisionRequestEntity | null> {
    return this.requests.findOneBy({ requestId });
  }

  /** A device's latest requests (newest first), on the (device, created) index: its page in the console. */
  latestOfDevice(deviceId: string, limit: number): Promise<DecisionRequestEntity[]> {
    return this.requests.find({ where: { deviceId }, order: { createdAt: 'DESC' }, take: limit });
  }

  /** Requests waiting for approvers at `now`: how many, the oldest's age, how many expire within `soonSeconds`. */
  async pendingSummary(
    now: Date,
    soonSeconds: number,
  ): Promise<{ count: number; oldestSeconds: number; expiringSoon: number }> {
    const [row] = await this.requests.query<{ n: number; oldest: number | null; soon: number }[]>(
      `SELECT count(*)::int AS n,
              extract(epoch FROM $1::timestamptz - min(created_at))::float8 AS oldest,
              count(*) FILTER (WHERE expires_at <= $1::timestamptz + make_interval(secs => $2))::int AS soon
         FROM decision_requests WHERE status = 'pending' AND expires_at > $1`,
      [now, soonSeconds],
    );
    return { count: row.n, oldestSeconds: Math.max(0, row.oldest ?? 0), expiringSoon: row.soon };
  }

  /** Pending and not yet past its expiry at `now`. */
  async isPending(requestId: string, now: Date): Promise<boolean> {
    const rows = await this.requests.query<{ pending: boolean }[]>(
      `SELECT status = 'pending' AND expires_at > $2 AS pending FROM decision_requests WHERE request_id = $1`,
      [requestId, now],
    );
    return rows[0]?.pending === true;
  }

  /** The request, locked until the caller's transaction ends (votes on it queue behind each other). */
  lockForUpdate(m: EntityManager, requestId: string): Promise<DecisionRequestEntity | null> {
    return m
      .getRepository(DecisionRequestEntity)
      .findOne({ where: { requestId }, lock: { mode: 'pessimistic_write' } });
  }

  /** Settles a request that is still pending and unexpired at `decidedAt`; false if it no longer is. */
  async settle(m: EntityManager, requestId: string, s: Settlement): Promise<boolean> {
    const [rows] = await m.query<[{ request_id: string }[], number]>(
      `UPDATE decision_requests SET status = $2, decided_at = $3, valid_until = $4, reason = $5
        WHERE request_id = $1 AND status = 'pending' AND expires_at > $3 RETURNING request_id`,
      [requestId, s.status, s.decidedAt, s.validUntil, s.reason],
    );
    return rows.length > 0;
  }

  /** Expires every pending request whose expiry has come by `now`; returns them, as now stored. */
  async expireDue(m: EntityManager, now: Date): Promise<DecisionRequestEntity[]> {
    const [rows] = await m.query<[{ request_id: string }[], number]>(
      `UPDATE decision_requests SET status = 'expired', decided_at = expires_at, reason = $2
        WHERE status = 'pending' AND expires_at <= $1 RETURNING request_id`,
      [now, EXPIRED_REASON],
    );
    return this.byIds(
      m,
      rows.map((r) => r.request_id),
    );
  }

  /** How many requests were allowed as repeats under the grant (a grant's report has something to say). */
  async countUnderGrant(m: EntityManager, grantId: string): Promise<number> {
    return m.getRepository(DecisionRequestEntity).countBy({ grantId });
  }

  /** Those of these requests that came from the vendor enterprise (its remote user's). */
  async fromEnterprise(m: EntityManager, requestIds: string[], enterprise: string): Promise<string[]> {
    if (requestIds.length === 0) return [];
    const rows = await m.query<{ request_id: string }[]>(
      `SELECT request_id FROM decision_requests WHERE request_id = ANY($1) AND remote_user ->> 'enterprise' = $2`,
      [requestIds, enterprise],
    );
    return rows.map((r) => r.request_id);
  }

  byIds(m: EntityManager, requestIds: string[]): Promise<DecisionRequestEntity[]> {
    if (requestIds.length === 0) return Promise.resolve([]);
    return m.getRepository(DecisionRequestEntity).findBy({ requestId: In(requestIds) });
  }
}
