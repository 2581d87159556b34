import type { ChainedRecord } from '../audit/audit-chain.js';
import type { SignedCheckpoint } from '../audit/checkpoint-format.js';
import type { DigestSpan } from './digest-period.js';

/** The longest sessions a digest lists. */
export const LONGEST = 5;

/** A digest of one device group's requests over a day or a week, from the audit trail. */
export interface Digest {
  group: string;
  span: DigestSpan;
  /** Answers to agents' requests, by effect (allowed, denied, pending = asked an approver). */
  byEffect: Record<string, number>;
  denials: {
    at: Date;
    requestId: string | null;
    deviceId: string | null;
    action: string | null;
    who: string;
    why: string;
  }[];
  /** Approvals given, by approver, and the rejections. */
  approvals: { by: string; approved: number; rejected: number }[];
  expiredUnanswered: { at: Date; requestId: string | null; deviceId: string | null; action: string | null }[];
  /** Requests allowed alone by a member of an emergency group, with their review (null: still to review). */
  breakGlass: {
    at: Date;
    requestId: string | null;
    deviceId: string | null;
    action: string | null;
    by: string;
    reason: string;
    review: string | null;
  }[];
  /** Attended allows the agent completed without reporting the operator's consent. */
  consentMissing: { at: Date; requestId: string | null; deviceId: string | null; action: string | null }[];
  longest: {
    requestId: string | null;
    deviceId: string | null;
    action: string | null;
    seconds: number;
    outcome: string | null;
  }[];
  lastSeq: number;
  checkpoint: SignedCheckpoint | null;
}

/**
 * Counts the digest from the period's records of the group's devices. `allowedAt` gives, for
 * completed requests, when the work was allowed (their decision or grant, possibly before
 * the period), for sessions whose agent did not report their start and end.
 */
export function digestOf(
  group: string,
  span: DigestSpan,
  records: ChainedRecord[],
  allowedAt: Map<string, Date>,
  checkpoint: SignedCheckpoint | null,
): Digest {
  const byEffect: Record<string, number> = {};
  const approvals = new Map<string, { by: string; approved: number; rejected: number }>();
  const voted = new Set(records.filter((r) => r.eventType.startsWith('approval.')).map((r) => r.requestId));
  const reviews = new Map(
    records
      .filter((r) => r.eventType === 'approval.break-glass-reviewed')
      .map((r) => [r.requestId, `${r.outcome ?? '?'} by ${r.actorId ?? '?'}`]),
  );
  const digest: Digest = {
    group,
    span,
    byEffect,
    denials: [],
    approvals: [],
    expiredUnanswered: [],
    breakGlass: [],
    consentMissing: [],
    longest: [],
    lastSeq: records.at(-1)?.seq ?? 0,
    checkpoint,
  };
  for (const r of records) {
    const base = { at: r.recordedAt, requestId: r.requestId, deviceId: r.deviceId, action: r.action };
    if (r.eventType === 'decision') {
      const effect = r.outcome ?? 'unknown';
      byEffect[effect] = (byEffect[effect] ?? 0) + 1;
      if (effect === 'denied') {
        digest.denials.push({
          ...base,
          who: r.remoteUser ?? '—',
          why: typeof r.details.reason === 'string' ? r.details.reason : '',
        });
      }
    } else if (r.eventType === 'approval.approved' || r.eventType === 'approval.rejected') {
      const by = r.actorId ?? '?';
      const entry = approvals.get(by) ?? { by, approved: 0, rejected: 0 };
      if (r.eventType === 'approval.approved') entry.approved++;
      else {
        entry.rejected++;
        digest.denials.push({ ...base, who: r.remoteUser ?? '—', why: `rejected by ${by}` });
      }
      approvals.set(by, entry);
    } else if (r.eventType === 'approval.break-glass') {
      digest.breakGlass.push({
        ...base,
        by: r.actorId ?? '?',
        reason: typeof r.details.reason === 'string' ? r.details.reason : '',
        review: reviews.get(r.requestId) ?? null,
      });
    } else if (r.eventType === 'decision.expired' && !voted.has(r.requestId)) {
      digest.expiredUnanswered.push(base);
    } else if (r.eventType === 'decision.completed') {
      const seconds = sessionSeconds(r, allowedAt.get(r.requestId ?? ''));
      if (seconds !== null) digest.longest.push({ ...base, seconds, outcome: r.outcome });
      if (r.details.consentMissing === true) digest.consentMissing.push(base);
    }
  }
  digest.approvals = [...approvals.values()].sort((a, b) => b.approved + b.rejected - (a.approved + a.rejected));
  digest.longest = digest.longest.sort((a, b) => b.seconds - a.seconds).slice(0, LONGEST);
  return digest;
}

/** As AuditStory's completion: the vendor's startedAt..endedAt, else from the allowing answer to the report. */
function sessionSeconds(done: ChainedRecord, allowed: Date | undefined): number | null {
  const { startedAt, endedAt } = done.details as { startedAt?: string; endedAt?: string };
  const start = startedAt ? Date.parse(startedAt) : allowed?.getTime();
  const end = endedAt ? Date.parse(endedAt) : done.recordedAt.getTime();
  return start === undefined || Number.isNaN(start) || Number.isNaN(end) ? null : (end - start) / 1000;
}
