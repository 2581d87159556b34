/** What the fleet and the approvers saw, as the drill's checks and figures read it. */

/** One failed attempt of a call (the replica refused, reset, timed out or answered 5xx). */
export interface Failure {
  url: string;
  at: number;
  status?: number;
}

/** One call of an agent or approver: `failures` non-empty means it was retried. */
export interface CallRecord {
  kind: 'decide' | 'poll' | 'approve';
  startedAt: number;
  endedAt: number;
  failures: Failure[];
  answered: boolean;
}

/** An answer an agent received: a promise that the decision is committed with its audit record. */
export interface AcknowledgedDecision {
  requestId: string;
  deviceId: string;
  status: string;
  decision: string;
}

/** A long poll cut by a replica's death or an outage, and when its re-attached poll answered. */
export interface BrokenPoll {
  requestId: string;
  brokenAt: number;
  url: string;
  answeredAt?: number;
}

export class DrillLog {
  readonly calls: CallRecord[] = [];
  readonly decisions: AcknowledgedDecision[] = [];
  /** The final answer of each request that was pending (after its long polls). */
  readonly finals = new Map<string, { decision: string; status: string }>();
  readonly brokenPolls: BrokenPoll[] = [];
  /** Approvals answered 200: the approver was told its vote counted (`at`: when it was sent). */
  readonly approvals: { requestId: string; approver: string; at: number }[] = [];
  /** Approvals whose answer was lost and whose retry was refused (409): the first may have counted. */
  approvalsUnconfirmed = 0;
  /** Decisions that failed on every replica, asked again later by the agent with the same requestId. */
  askedAgain = 0;
  /** Requests never answered before the drill gave up (not lost: the agent did not act). */
  readonly unanswered: string[] = [];
  readonly errors: string[] = [];
}
