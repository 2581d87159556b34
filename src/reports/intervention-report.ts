import type { ChainedRecord } from '../audit/audit-chain.js';
import type { RequestStory, StoryStep } from '../audit/audit-story.js';
import type { SignedCheckpoint } from '../audit/checkpoint-format.js';

export interface ReportApproval {
  by: string;
  vote: 'approved' | 'rejected';
  at: Date;
  comment: string | null;
  grantMinutes: number | null;
}

/** One action the agent took under the request's grant (a repeat), and how it ended if reported. */
export interface ReportAction {
  requestId: string;
  at: Date;
  outcome: string | null;
  completed: string | null;
}

/** A break-glass allow (a member of an emergency group, alone) and its review by another approver. */
export interface ReportBreakGlass {
  by: string;
  at: Date;
  reason: string | null;
  grantMinutes: number | null;
  review: { by: string; at: Date; verdict: string; comment: string | null } | null;
}

/**
 * An intervention report: everything in it comes from the audit records of the request, its
 * votes, grant and repeats, and it names the signed checkpoint those records are covered by.
 */
export interface InterventionReport {
  requestId: string;
  deviceId: string | null;
  action: string | null;
  target: Record<string, unknown> | null;
  remoteUser: string | null;
  enterprise: string | null;
  ticket: string | null;
  vendorReason: string | null;
  askedAt: Date | null;
  /** The answer to the first ask (allowed, denied, pending…), and the final one after the votes. */
  firstAnswer: string | null;
  finalAnswer: string | null;
  reason: string | null;
  rules: string[];
  approvals: ReportApproval[];
  breakGlass: ReportBreakGlass | null;
  /** "End now" by staff: who ended the access, when and why (the first, if several). */
  endedNow: { by: string; at: Date; reason: string | null } | null;
  /** What the agent had to do before acting (agent-api.md 1.1 obligations), and local consent as reported. */
  obligations: string[];
  consent: { by: string | null; at: string | null } | null;
  /** An attended allow completed without the operator's consent: flagged for review. */
  consentMissing: boolean;
  grant: { createdAt: Date; expiresAt: string | null; endedAt: Date | null; endedBy: string | null } | null;
  actions: ReportAction[];
  start: Date | null;
  end: Date | null;
  durationSeconds: number | null;
  outcome: string | null;
  /** The last record the report was built from, and the signed checkpoint at or after it. */
  lastSeq: number;
  checkpoint: SignedCheckpoint | null;
}

type StoryEvent = ChainedRecord & { step: StoryStep };

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Reads the report out of a request's story (AuditStory.fromTrail). */
export function interventionReport(story: RequestStory, checkpoint: SignedCheckpoint | null): InterventionReport {
  const events = story.events as StoryEvent[];
  const first = (step: StoryStep) => events.find((e) => e.step === step);
  const asked = first('asked');
  const details = (asked?.details ?? {}) as { target?: Record<string, unknown>; context?: Record<string, unknown> };
  const votes = events.filter((e) => e.step === 'vote');
  const grantRecord = first('grant');
  const grantEnded = first('grant-ended');
  const lastVote = votes.at(-1);
  const breakGlass = first('break-glass');
  const review = first('break-glass-review');
  const endedNow = first('access-ended');
  const completedDetails = (events.find((e) => e.step === 'completed')?.details ?? {}) as {
    consent?: { by?: unknown; at?: unknown };
    consentMissing?: boolean;
  };
  const completed = new Map(events.filter((e) => e.step === 'repeat-completed').map((e) => [e.requestId, e.outcome]));
  const completion = story.completion;
  // Without the vendor's completion the intervention ran from the grant to its end.
  const start = completion
    ? completion.durationSeconds !== null
      ? new Date(completion.at.getTime() - completion.durationSeconds * 1000)
      : null
    : (grantRecord?.recordedAt ?? null);
  const end = completion ? completion.at : (grantEnded?.recordedAt ?? null);
  const durationSeconds =
    completion?.durationSeconds ?? (start && end ? (end.getTime() - start.getTime()) / 1000 : null);
  return {
    requestId: story.requestId,
    deviceId: asked?.deviceId ?? null,
    action: asked?.action ?? null,
    target: details.target ?? null,
    remoteUser: asked?.remoteUser ?? null,
    enterprise: text(asked?.details.enterprise),
    ticket: text(details.context?.ticket),
    vendorReason: text(details.context?.reason),
    askedAt: asked?.recordedAt ?? null,
    firstAnswer: asked?.outcome ?? null,
    finalAnswer:
      lastVote && lastVote.outcome !== 'recorded'
        ? lastVote.outcome
        : breakGlass
          ? `${breakGlass.outcome} (break-glass)`
          : (first('expired')?.outcome ?? first('cancelled')?.outcome ?? asked?.outcome ?? null),
    reason: text(asked?.details.reason),
    rules: asked?.ruleIds ?? [],
    approvals: votes.map((v) => ({
      by: v.actorId ?? '?',
      vote: v.eventType === 'approval.rejected' ? 'rejected' : 'approved',
      at: v.recordedAt,
      comment: text(v.details.comment),
      grantMinutes: typeof v.details.grantMinutes === 'number' ? v.details.grantMinutes : null,
    })),
    breakGlass: breakGlass
      ? {
          by: breakGlass.actorId ?? '?',
          at: breakGlass.recordedAt,
          reason: text(breakGlass.details.reason),
          grantMinutes: typeof breakGlass.details.grantMinutes === 'number' ? breakGlass.details.grantMinutes : null,
          review: review
            ? {
                by: review.actorId ?? '?',
                at: review.recordedAt,
                verdict: review.outcome ?? '?',
                comment: text(review.details.comment),
              }
            : null,
        }
      : null,
    endedNow: endedNow
      ? { by: endedNow.actorId ?? '?', at: endedNow.recordedAt, reason: text(endedNow.details.reason) }
      : null,
    obligations: Array.isArray(asked?.details.obligations) ? (asked.details.obligations as string[]) : [],
    consent: completedDetails.consent
      ? { by: text(completedDetails.consent.by), at: text(completedDetails.consent.at) }
      : null,
    consentMissing: completedDetails.consentMissing === true,
    grant: grantRecord
      ? {
          createdAt: grantRecord.recordedAt,
          expiresAt: text(grantRecord.details.expiresAt),
          endedAt: grantEnded?.recordedAt ?? null,
          endedBy: grantEnded?.actorId ?? null,
        }
      : null,
    actions: events
      .filter((e) => e.step === 'repeat')
      .map((e) => ({
        requestId: e.requestId!,
        at: e.recordedAt,
        outcome: e.outcome,
        completed: completed.get(e.requestId) ?? null,
      })),
    start,
    end,
    durationSeconds,
    outcome: completion?.outcome ?? (grantEnded ? 'grant ended' : null),
    lastSeq: events.at(-1)?.seq ?? 0,
    checkpoint,
  };
}

/** "1 h 07 min 30 s": a duration a reader takes in at a glance. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = h > 0 ? [`${h} h`, `${String(m).padStart(2, '0')} min`] : [`${m} min`];
  return `${parts.join(' ')} ${String(s % 60).padStart(2, '0')} s`;
}
