import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { canOnApproval } from '../approvals/approver-rights.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { notFound } from '../common/api-error.js';
import { DecisionRequests } from '../decisions/decision-requests.js';
import type { ChainedRecord } from './audit-chain.js';
import { fromRow, type AuditRow } from './audit-row.js';
import { AuditSealer } from './sealer/audit-sealer.js';

/** What a record is in a request's story. */
export type StoryStep =
  | 'asked'
  | 'vote'
  | 'break-glass'
  | 'break-glass-review'
  | 'grant'
  | 'repeat'
  | 'repeat-completed'
  | 'cancelled'
  | 'expired'
  | 'grant-ended'
  | 'access-ended'
  | 'end-confirmed'
  | 'completed'
  | 'other';

export interface RequestStory {
  requestId: string;
  /** The request's status now (null if only its audit records remain). */
  status: string | null;
  /** Every audit record of the request, its votes, grant and the repeats under the grant, oldest first. */
  events: (ChainedRecord & { step: StoryStep })[];
  /** The vendor's report of how the work ended, with how long it took. */
  completion: { outcome: string | null; at: Date; durationSeconds: number | null } | null;
}

/**
 * A request's whole story, from the audit trail itself (records are never changed or removed,
 * so nothing disappears when the request expires or is decided).
 */
@Injectable()
export class AuditStory {
  constructor(
    private readonly dataSource: DataSource,
    private readonly requests: DecisionRequests,
    private readonly sealer: AuditSealer,
  ) {}

  async of(staff: StaffPrincipal, requestId: string): Promise<RequestStory> {
    const request = await this.requests.get(requestId);
    // Auditors and admins read every story; an approver only those of their devices. Out of
    // scope reads as not found, as in the approval queue: request ids cannot be probed.
    const allowed =
      staff.ability.can('read', 'AuditRecord') ||
      (request !== null && canOnApproval(staff.ability, 'decide', request.deviceGroups));
    if (!allowed) throw notFound('Request');
    const story = await this.fromTrail(requestId, request?.status ?? null);
    if (!request && story.events.length === 0) throw notFound('Request');
    return story;
  }

  /**
   * The story from the trail alone, without a reader's scope (the caller checks it): for
   * intervention reports, which are built on the server's own account.
   */
  async fromTrail(requestId: string, status: string | null = null): Promise<RequestStory> {
    await this.sealer.sealPending();
    const own = await this.records(
      `request_id = $1 OR (details->>'grantedByRequest') = $1`, // the second: repeats under its grant
      [requestId],
    );
    const repeats = [...new Set(own.filter((r) => r.requestId !== requestId).map((r) => r.requestId!))];
    const ofRepeats = repeats.length
      ? await this.records(`request_id = ANY($1) AND event_type <> 'decision'`, [repeats])
      : [];
    const events = [...own, ...ofRepeats]
      .sort((a, b) => a.seq - b.seq)
      .map((r) => ({ ...r, step: stepOf(r, requestId) }));
    return { requestId, status, events, completion: completionOf(events) };
  }

  private async records(where: string, params: unknown[]): Promise<ChainedRecord[]> {
    const rows = await this.dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records WHERE ${where} ORDER BY seq`,
      params,
    );
    return rows.map(fromRow);
  }
}

function stepOf(r: ChainedRecord, requestId: string): StoryStep {
  if (r.requestId !== requestId && r.eventType === 'decision') return 'repeat';
  if (r.requestId !== requestId && r.eventType === 'decision.completed') return 'repeat-completed';
  switch (r.eventType) {
    case 'decision':
    case 'decision.offline': // decided by the agent alone, while Gatehouse was unreachable
      return 'asked';
    case 'approval.approved':
    case 'approval.rejected':
      return 'vote';
    // Allowed alone by a member of an emergency group, then reviewed by another approver (src/approvals/break-glass).
    case 'approval.break-glass':
      return 'break-glass';
    case 'approval.break-glass-reviewed':
      return 'break-glass-review';
    case 'grant.created':
      return 'grant';
    case 'grant.ended':
      return 'grant-ended';
    // "End now" (src/access/): of this request or of a repeat under its grant.
    case 'access.ended':
      return 'access-ended';
    case 'access.end.confirmed':
      return 'end-confirmed';
    case 'decision.cancelled':
      return 'cancelled';
    case 'decision.expired':
      return 'expired';
    case 'decision.completed':
      return 'completed';
    default:
      return 'other';
  }
}

/** Duration: as the vendor reported it (startedAt..endedAt), else from the answer that let the work start. */
function completionOf(events: (ChainedRecord & { step: StoryStep })[]): RequestStory['completion'] {
  const done = events.find((e) => e.step === 'completed');
  if (!done) return null;
  const { startedAt, endedAt } = done.details as { startedAt?: string; endedAt?: string };
  const allowedAt = [...events]
    .reverse()
    .find((e) => e.seq < done.seq && (e.step === 'grant' || e.step === 'asked'))?.recordedAt;
  const start = startedAt ? Date.parse(startedAt) : allowedAt?.getTime();
  const end = endedAt ? Date.parse(endedAt) : done.recordedAt.getTime();
  return {
    outcome: done.outcome,
    at: done.recordedAt,
    durationSeconds: start !== undefined && !Number.isNaN(start) && !Number.isNaN(end) ? (end - start) / 1000 : null,
  };
}
