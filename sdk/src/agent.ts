import { randomUUID } from 'node:crypto';
import type {
  CompleteRequest,
  DecideRequest,
  DecisionAnswer,
  DeviceState,
  EndItem,
  EnrollAnswer,
  EnrollRequest,
  HeartbeatAnswer,
  OfflineDecision,
  OfflinePolicy,
  PublicKeys,
} from './api-types.js';
import { OfflinePolicyRefused, verifyOfflinePolicy, type VerifiedOfflinePolicy } from './offline.js';
import { GatehouseUnreachable, Transport, type TransportOptions } from './transport.js';

/** A request as the vendor's cloud gives it; the SDK adds a fresh requestId unless one is given. */
export type AgentRequest = Omit<DecideRequest, 'requestId'> & { requestId?: string };

/** The obligations this SDK knows how to meet (the agent must still really meet them). */
export const KNOWN_OBLIGATIONS = ['local-consent'] as const;

export interface AgentOptions extends TransportOptions {
  deviceId: string;
  credential: string;
  /**
   * Called for each access the hospital ends (heartbeat `end`): stop it at once. The SDK then
   * completes the request as aborted. Called once per request, even if later heartbeats repeat it.
   */
  onEnd?: (end: EndItem) => void | Promise<void>;
}

const MAX_OFFLINE_UPLOAD = 500;

/**
 * A device's agent: asks Gatehouse before every remote action and acts only on an allow
 * (agent-api.md). Calls go to the replicas of `urls`; decisions are retried with the same
 * requestId, so a retry after a time-out never makes a second decision.
 */
export class GatehouseAgent {
  readonly deviceId: string;
  private readonly transport: Transport;
  private readonly credential: string;
  private readonly onEnd?: AgentOptions['onEnd'];
  private readonly ended = new Set<string>();
  private state: DeviceState | null = null;
  private offline?: VerifiedOfflinePolicy;
  private readonly offlineLog: OfflineDecision[] = [];

  constructor(options: AgentOptions) {
    this.transport = new Transport(options);
    this.deviceId = options.deviceId;
    this.credential = options.credential;
    this.onEnd = options.onEnd;
  }

  /** Enrolls with an enrollment token; the answer's credential is shown once: keep it. */
  static async enroll(
    options: TransportOptions & { enrollmentToken: string; device: EnrollRequest; onEnd?: AgentOptions['onEnd'] },
  ): Promise<{ agent: GatehouseAgent; enrollment: EnrollAnswer }> {
    // Not retried: a lost answer would leave the device enrolled without its credential (409 next).
    const transport = new Transport({ ...options, attempts: 1 });
    const enrollment = await transport.call<EnrollAnswer>('POST', '/api/v1/agent/enroll', {
      token: options.enrollmentToken,
      body: options.device,
    });
    const agent = new GatehouseAgent({ ...options, deviceId: enrollment.deviceId, credential: enrollment.credential });
    return { agent, enrollment };
  }

  private call<T>(method: string, path: string, body?: unknown, extraTimeoutMs?: number) {
    return this.transport.call<T>(method, path, { token: this.credential, body, extraTimeoutMs });
  }

  /** Asks for a decision. Throws GatehouseUnreachable when no replica answered: then do not act. */
  decide(request: AgentRequest): Promise<DecisionAnswer> {
    const body: DecideRequest = { ...request, requestId: request.requestId ?? randomUUID() };
    return this.call<DecisionAnswer>('POST', '/api/v1/agent/decisions', body);
  }

  /** The current answer; with waitSeconds (at most 60) a long poll while it is pending. */
  status(requestId: string, waitSeconds = 0): Promise<DecisionAnswer> {
    const path = `/api/v1/agent/decisions/${encodeURIComponent(requestId)}?wait=${waitSeconds}`;
    return this.call<DecisionAnswer>('GET', path, undefined, waitSeconds * 1000);
  }

  /**
   * Waits for approvers: long polls until the request is no longer pending or `timeoutMs`
   * passes (then the last answer, still pending). Gatehouse unreachable: back-off (1 s
   * doubling to 30 s) and polls again, while the time allows.
   */
  async waitForDecision(
    requestId: string,
    options: { timeoutMs?: number; waitSeconds?: number } = {},
  ): Promise<DecisionAnswer> {
    const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
    let backoff = 1_000;
    let last: DecisionAnswer | undefined;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 && last) return last;
      try {
        const wait = Math.max(0, Math.min(options.waitSeconds ?? 25, 60, Math.floor(left / 1000)));
        last = await this.status(requestId, wait);
        backoff = 1_000;
        if (last.decision !== 'pending' || Date.now() >= deadline) return last;
      } catch (error) {
        if (!(error instanceof GatehouseUnreachable) || Date.now() + backoff >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** Whether this SDK may act on the answer: an allow whose obligations it knows (others: do not act). */
  static mayAct(answer: DecisionAnswer): boolean {
    const known: readonly string[] = KNOWN_OBLIGATIONS;
    return answer.decision === 'allow' && (answer.obligations ?? []).every((o) => known.includes(o));
  }

  /**
   * Reports the device's state (kept for offline decisions too). Each access in the answer's
   * `end` is stopped through onEnd, then completed as aborted.
   */
  async heartbeat(state: DeviceState, agentVersion?: string): Promise<HeartbeatAnswer> {
    this.state = state;
    const answer = await this.call<HeartbeatAnswer>('POST', '/api/v1/agent/heartbeat', {
      state,
      ...(agentVersion ? { agentVersion } : {}),
    });
    for (const end of answer.end ?? []) {
      if (this.ended.has(end.requestId)) continue;
      this.ended.add(end.requestId);
      await this.onEnd?.(end);
      await this.complete(end.requestId, {
        outcome: 'aborted',
        endedAt: new Date().toISOString(),
        detail: `Stopped: ${end.reason}`.slice(0, 2000),
      });
    }
    return answer;
  }

  /** What happened after an allow (with `consent` when the allow carried local-consent). */
  complete(requestId: string, body: CompleteRequest): Promise<unknown> {
    return this.call('POST', `/api/v1/agent/decisions/${encodeURIComponent(requestId)}/complete`, body);
  }

  cancel(requestId: string): Promise<DecisionAnswer> {
    return this.call<DecisionAnswer>('POST', `/api/v1/agent/decisions/${encodeURIComponent(requestId)}/cancel`);
  }

  /** Fetches this device's offline policy and verifies it; throws OfflinePolicyRefused if it fails. */
  async refreshOfflinePolicy(now = Date.now()): Promise<VerifiedOfflinePolicy> {
    const policy = await this.call<OfflinePolicy>('GET', '/api/v1/agent/policy');
    const keys = await this.call<PublicKeys>('GET', '/api/v1/audit/public-key');
    this.offline = verifyOfflinePolicy(policy, keys, now);
    return this.offline;
  }

  /**
   * Uses an offline policy kept from an earlier run (a device restarting while Gatehouse is
   * down): verified again, with the public keys kept beside it; throws OfflinePolicyRefused.
   */
  adoptOfflinePolicy(policy: OfflinePolicy, keys: PublicKeys, now = Date.now()): VerifiedOfflinePolicy {
    this.offline = verifyOfflinePolicy(policy, keys, now);
    return this.offline;
  }

  /**
   * Decides offline, by the verified offline policy, with the device's last reported state
   * (agent-api.md): no policy, or past its validity, is a deny. Recorded for upload.
   */
  decideOffline(request: AgentRequest, now = Date.now()): OfflineDecision {
    const allowed = this.offline?.can(request, this.state, now) ?? false;
    const record: OfflineDecision = {
      requestId: request.requestId ?? randomUUID(),
      action: request.action,
      remoteUser: request.remoteUser,
      ...(request.target ? { target: request.target } : {}),
      ...(request.context ? { context: request.context } : {}),
      decidedAt: new Date(now).toISOString(),
      policyVersion: this.offline?.policy.version ?? 'none',
      decision: allowed ? 'allow' : 'deny',
      ...(this.state ? { deviceState: this.state } : {}),
    };
    this.offlineLog.push(record);
    return record;
  }

  /** Online when a replica answers, else the offline policy (a deny without one). */
  async decideOrOffline(request: AgentRequest): Promise<{ online: DecisionAnswer } | { offline: OfflineDecision }> {
    const withId = { ...request, requestId: request.requestId ?? randomUUID() };
    try {
      return { online: await this.decide(withId) };
    } catch (error) {
      if (!(error instanceof GatehouseUnreachable)) throw error;
      return { offline: this.decideOffline(withId) };
    }
  }

  /** Offline decisions not yet uploaded. */
  get pendingOfflineDecisions(): readonly OfflineDecision[] {
    return this.offlineLog;
  }

  /** Uploads the offline decisions (500 a call; idempotent by requestId); returns how many were new. */
  async uploadOfflineDecisions(): Promise<number> {
    let accepted = 0;
    while (this.offlineLog.length > 0) {
      const batch = this.offlineLog.slice(0, MAX_OFFLINE_UPLOAD);
      const answer = await this.call<{ accepted: number }>('POST', '/api/v1/agent/offline-decisions', {
        decisions: batch,
      });
      accepted += answer.accepted;
      this.offlineLog.splice(0, batch.length);
    }
    return accepted;
  }
}

export { OfflinePolicyRefused };
