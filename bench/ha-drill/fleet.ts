import { randomUUID } from 'node:crypto';
import { GatehouseAgent, GatehouseUnreachable, type AgentRequest, type DecisionAnswer } from '../../sdk/src/index.js';
import type { CallRecord, DrillLog, Failure } from './drill-log.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long one waitForDecision may take before the drill looks at the clock again. */
const POLL_ROUND_MS = 30_000;
const REMOTE_USER = { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] };

/**
 * The fleet's mix, on a CT scanner with the example policies, none depending on the hour:
 * log uploads (allowed), an action no rule names (denied by default), and file uploads into
 * /opt (one approval: pending until an approver answers).
 */
export function requestFor(deviceId: string, n: number): AgentRequest {
  if (n % 10 === 0) {
    return { action: 'file-upload', target: { path: `/opt/drill/${deviceId}-${n}.bin` }, remoteUser: REMOTE_USER };
  }
  if (n % 10 < 3) return { action: 'x-drill-unlisted', remoteUser: REMOTE_USER };
  return { action: 'log-upload', remoteUser: REMOTE_USER };
}

/** A request that waits for approvers, for the requests nobody will answer. */
export const unattendedRequest = (n: number): AgentRequest => ({
  action: 'file-upload',
  target: { path: `/opt/drill/unattended-${n}.bin` },
  remoteUser: REMOTE_USER,
});

export interface FleetTiming {
  thinkMs: number;
  waitSeconds: number;
  /** True once the fleet should stop starting new requests. */
  stopped: () => boolean;
  /** After this instant an agent stops asking again for an unanswered request. */
  giveUpAt: () => number;
}

/**
 * One simulated device: the SDK's agent on every replica (its list rotated so that the fleet
 * spreads over them, as behind a round-robin balancer), asking one request after another,
 * long polling the pending ones. The SDK retries on the next replica by requestId; when every
 * replica fails, the agent does not act and asks again with the same requestId a moment later.
 */
export class DrillAgent {
  private failures: Failure[] = [];
  private lastCall: CallRecord | undefined;
  readonly sdk: GatehouseAgent;

  constructor(
    readonly deviceId: string,
    credential: string,
    urls: string[],
    private readonly log: DrillLog,
  ) {
    this.sdk = new GatehouseAgent({
      urls,
      deviceId,
      credential,
      timeoutMs: 5_000,
      attempts: 3 * urls.length,
      onAttemptFailed: (f) => this.failures.push({ url: f.url, at: Date.now(), status: f.status }),
    });
  }

  /** Asks until answered (or the drill gives up); long polls a pending answer until decided. */
  async ask(request: AgentRequest, timing: FleetTiming): Promise<DecisionAnswer | undefined> {
    const requestId = request.requestId ?? randomUUID();
    let answer: DecisionAnswer | undefined;
    while (!answer) {
      try {
        answer = await this.tracked('decide', () => this.sdk.decide({ ...request, requestId }));
      } catch (error) {
        if (!(error instanceof GatehouseUnreachable) || Date.now() > timing.giveUpAt()) {
          this.giveUp(requestId, error);
          return undefined;
        }
        this.log.askedAgain++;
        await sleep(500);
      }
    }
    this.log.decisions.push({ requestId, deviceId: this.deviceId, status: answer.status, decision: answer.decision });
    return answer;
  }

  /** Long polls (through the SDK) until the request is decided; notes a poll cut on the way. */
  async waitForDecision(requestId: string, timing: FleetTiming): Promise<void> {
    while (Date.now() <= timing.giveUpAt()) {
      let final: DecisionAnswer;
      try {
        final = await this.tracked('poll', () =>
          this.sdk.waitForDecision(requestId, {
            waitSeconds: timing.waitSeconds,
            timeoutMs: Math.max(1_000, Math.min(POLL_ROUND_MS, timing.giveUpAt() - Date.now())),
          }),
        );
      } catch (error) {
        if (!(error instanceof GatehouseUnreachable)) return this.giveUp(requestId, error);
        continue;
      }
      const call = this.lastCall;
      if (call?.failures.length) {
        this.log.brokenPolls.push({
          requestId,
          brokenAt: call.failures[0].at,
          url: call.failures[0].url,
          answeredAt: call.endedAt,
        });
      }
      if (final.decision !== 'pending') {
        this.log.finals.set(requestId, { decision: final.decision, status: final.status });
        return;
      }
    }
    this.giveUp(requestId, new Error('still pending when the drill gave up'));
  }

  private giveUp(requestId: string, error: unknown): void {
    this.log.unanswered.push(requestId);
    this.log.errors.push(`${this.deviceId} ${requestId}: ${(error as Error).message}`);
  }

  /** Runs one SDK call and records it with the attempts that failed on the way. */
  private async tracked<T>(kind: 'decide' | 'poll', fn: () => Promise<T>): Promise<T> {
    this.failures = [];
    const startedAt = Date.now();
    const record = (answered: boolean) => {
      this.lastCall = { kind, startedAt, endedAt: Date.now(), failures: this.failures, answered };
      this.log.calls.push(this.lastCall);
    };
    try {
      const value = await fn();
      record(true);
      return value;
    } catch (error) {
      record(false);
      throw error;
    }
  }
}

/** An agent's loop: ask, and for a pending answer wait for the approvers. */
export async function runAgent(agent: DrillAgent, timing: FleetTiming): Promise<void> {
  for (let n = 0; !timing.stopped(); n++) {
    const answer = await agent.ask(requestFor(agent.deviceId, n), timing);
    if (answer?.decision === 'pending') await agent.waitForDecision(answer.requestId, timing);
    await sleep(timing.thinkMs);
  }
}
