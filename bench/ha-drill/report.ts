import type { DrillResult } from './drill.js';

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 'n/a' : `${Math.round(v)} ms`);
const list = (items: string[]) =>
  items.length ? ` (${items.slice(0, 5).join('; ')}${items.length > 5 ? '; …' : ''})` : '';

/** Whether the drill proved what it must: nothing lost, nothing done twice, the chain intact. */
export function drillPassed(r: DrillResult): boolean {
  const c = r.checks;
  return (
    c.decisionsLost.length === 0 &&
    c.decidedTwice.length === 0 &&
    c.approvalsLost.length === 0 &&
    c.expiredTwice.length === 0 &&
    c.expiredMissing.length === 0 &&
    c.notificationsTwice.length === 0 &&
    c.notificationsMissing.length === 0 &&
    r.auditVerified.ok
  );
}

/** The figures, as `npm run drill:ha` prints them (docs/high-availability.md quotes a run). */
export function drillReport(r: DrillResult): string[] {
  const { checks: c, figures: f } = r;
  return [
    `calls: ${f.calls}; answered after a failed attempt (retried by requestId on another replica): ` +
      `decisions ${f.retried.decide}, long polls ${f.retried.poll}, approvals ${f.retried.approve}`,
    `decisions that failed on every replica and were asked again later: ${f.askedAgain}; never answered: ${f.unanswered}`,
    `killed replica: ${f.killedInFlight.total} calls in flight on it, ${f.killedInFlight.answered} answered by ` +
      `another replica (longest ${ms(f.killedInFlight.longestMs)} after the kill); ${f.refusedByDeadReplica} ` +
      `more found it gone and went on; back in service ${ms(f.killedReplica.downMs)} after the kill ` +
      `(start-up ${ms(f.killedReplica.startMs)})`,
    `database outage of ${ms(f.outage.ms)}: ${f.outage.replicasUnready} replicas answered not ready, all ready ` +
      `${ms(f.outage.readyAgainMs)} after it ended; decisions answered during it: ${f.outage.decisionsAnsweredDuring}; ` +
      `first decision ${ms(f.outage.firstDecisionAfterMs)} after it`,
    `long polls cut: ${f.longPolls.broken}, re-attached and answered: ${f.longPolls.reattached} ` +
      `(from the cut, or the approval if later, to the answer: median ${ms(f.longPolls.medianMs)}, ` +
      `max ${ms(f.longPolls.maxMs)})`,
    `decisions acknowledged: ${c.decisionsAcknowledged}; lost: ${c.decisionsLost.length}${list(c.decisionsLost)}; ` +
      `recorded twice: ${c.decidedTwice.length}${list(c.decidedTwice)}`,
    `approvals acknowledged: ${c.approvalsAcknowledged}; lost: ${c.approvalsLost.length}${list(c.approvalsLost)}; ` +
      `answer lost and the retry found it decided: ${f.approvalsUnconfirmed}`,
    `jobs run twice: expiries ${c.expiredTwice.length}${list(c.expiredTwice)}, notifications ` +
      `${c.notificationsTwice.length}${list(c.notificationsTwice)}; expiries missing ${c.expiredMissing.length}, ` +
      `notifications missing ${c.notificationsMissing.length}${list(c.notificationsMissing)}`,
    `audit chain: ${r.auditVerified.ok ? 'verified' : 'FAILED to verify'} (${r.auditVerified.records} records)`,
    ...(r.errors.length ? [`errors: ${r.errors.length}${list(r.errors)}`] : []),
  ];
}
