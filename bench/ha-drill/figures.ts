import type { CallRecord, DrillLog } from './drill-log.js';

/** When the faults happened (ms since the epoch). */
export interface FaultTimes {
  killedUrl: string;
  killAt: number;
  restartAt: number;
  restartReadyAt?: number;
  outageStart: number;
  outageEnd: number;
  /** Per replica: whether it answered not ready during the outage, and when it was ready after it. */
  outageReadiness: { url: string; wentUnready: boolean; readyAt?: number }[];
}

export interface DrillFigures {
  calls: number;
  /** Calls answered after at least one failed attempt (on another replica, or the same one later). */
  retried: Record<CallRecord['kind'], number>;
  askedAgain: number;
  unanswered: number;
  /** Calls in flight on the killed replica when it died. */
  killedInFlight: { total: number; answered: number; longestMs: number };
  /** Calls that found the killed replica gone (refused) and went to another. */
  refusedByDeadReplica: number;
  killedReplica: { downMs: number; startMs?: number };
  outage: {
    ms: number;
    replicasUnready: number;
    readyAgainMs?: number;
    decisionsAnsweredDuring: number;
    firstDecisionAfterMs?: number;
  };
  /** Re-attach times: from the later of the cut and the approval to the agent's answer. */
  longPolls: { broken: number; reattached: number; medianMs?: number; maxMs?: number };
  approvalsUnconfirmed: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : undefined;

export function drillFigures(log: DrillLog, t: FaultTimes): DrillFigures {
  const retried = { decide: 0, poll: 0, approve: 0 };
  for (const c of log.calls) if (c.answered && c.failures.length > 0) retried[c.kind]++;
  const onKilled = (c: CallRecord) => c.failures.some((f) => f.url === t.killedUrl && f.at >= t.killAt);
  const inFlight = log.calls.filter((c) => c.startedAt < t.killAt && c.endedAt >= t.killAt && onKilled(c));
  const refused = log.calls.filter((c) => c.startedAt >= t.killAt && onKilled(c));
  const decisions = log.calls.filter((c) => c.kind === 'decide' && c.answered);
  const afterOutage = decisions.filter((c) => c.endedAt >= t.outageEnd).map((c) => c.endedAt - t.outageEnd);
  const readyAts = t.outageReadiness.filter((r) => r.wentUnready).map((r) => r.readyAt);
  // From the later of the cut and the approval: the time the agent waited only for the re-attach.
  const approvedAt = new Map(log.approvals.map((a) => [a.requestId, a.at]));
  const reattached = log.brokenPolls
    .filter((b) => b.answeredAt !== undefined)
    .map((b) => Math.max(0, b.answeredAt! - Math.max(b.brokenAt, approvedAt.get(b.requestId) ?? 0)))
    .sort((a, b) => a - b);
  return {
    calls: log.calls.length,
    retried,
    askedAgain: log.askedAgain,
    unanswered: log.unanswered.length,
    killedInFlight: {
      total: inFlight.length,
      answered: inFlight.filter((c) => c.answered).length,
      longestMs: Math.max(0, ...inFlight.filter((c) => c.kind !== 'poll').map((c) => c.endedAt - t.killAt)),
    },
    refusedByDeadReplica: refused.length,
    killedReplica: {
      downMs: (t.restartReadyAt ?? Number.NaN) - t.killAt,
      startMs: t.restartReadyAt === undefined ? undefined : t.restartReadyAt - t.restartAt,
    },
    outage: {
      ms: t.outageEnd - t.outageStart,
      replicasUnready: readyAts.length,
      readyAgainMs: readyAts.includes(undefined)
        ? undefined
        : Math.max(0, ...readyAts.map((at) => (at as number) - t.outageEnd)),
      decisionsAnsweredDuring: decisions.filter((c) => c.endedAt > t.outageStart && c.endedAt < t.outageEnd).length,
      firstDecisionAfterMs: afterOutage.length ? Math.min(...afterOutage) : undefined,
    },
    approvalsUnconfirmed: log.approvalsUnconfirmed,
    longPolls: {
      broken: log.brokenPolls.length,
      reattached: reattached.length,
      medianMs: percentile(reattached, 0.5),
      maxMs: reattached.at(-1),
    },
  };
}
