import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApprovalVoteEntity } from '../approvals/approval-vote.entity.js';
import { GrantLookup, type Grant } from '../approvals/grants/grant-lookup.js';
import type { ChainedRecord } from '../audit/audit-chain.js';
import { fromRow, type AuditRow } from '../audit/audit-row.js';
import { DecisionRequestEntity } from './decision-request.entity.js';

/** A request's whole story: what was asked, the rules, the votes, the grant, the completion, and every record. */
export interface RequestStory {
  request: DecisionRequestEntity | null;
  votes: ApprovalVoteEntity[];
  grant: Grant | null;
  records: ChainedRecord[];
}

/** Reads one request's story for auditors (whose role reads every record); a request id that is unknown has no story. */
@Injectable()
export class RequestStories {
  constructor(
    private readonly dataSource: DataSource,
    private readonly grants: GrantLookup,
  ) {}

  async get(requestId: string): Promise<RequestStory | null> {
    const [request, votes, grant, rows] = await Promise.all([
      this.dataSource.getRepository(DecisionRequestEntity).findOneBy({ requestId }),
      this.dataSource.getRepository(ApprovalVoteEntity).find({ where: { requestId }, order: { createdAt: 'ASC' } }),
      this.grants.byRequest(requestId),
      // On the request_id index; oldest first, as the story happened.
      this.dataSource.query<AuditRow[]>('SELECT * FROM audit_records WHERE request_id = $1 ORDER BY seq LIMIT 500', [
        requestId,
      ]),
    ]);
    if (!request && rows.length === 0) return null;
    return { request, votes, grant, records: rows.map(fromRow) };
  }
}
