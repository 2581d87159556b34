import type { ApprovalSettings, Effect } from '../policy.types.js';

/** What the engine is asked: the request, the device as Gatehouse knows it, and the time. */
export interface DecisionInput {
  action: string;
  remoteUser: { id: string; enterprise?: string; groups?: string[] };
  target?: { path?: string; package?: string; version?: string; sha256?: string };
  /** The request's context as the agent sent it (a change ticket, …). */
  context?: { ticket?: string };
  device: {
    id: string;
    groups: ReadonlySet<string>;
    /** Reported state, or null when none is known. */
    state: Record<string, unknown> | null;
    /** When the state was reported (ms since epoch); state older than `stateMaxAgeMs` is unknown. */
    stateReportedAt: number | null;
  };
  /** The instant of the decision (ms since epoch), from the injected clock. */
  now: number;
  stateMaxAgeMs: number;
  /**
   * The ITSM's verdict on the ticket for each rule with a ticket `check` (by rule id), found
   * by the decisions service before deciding; a checked rule without a verdict does not match.
   */
  ticketVerdicts?: ReadonlyMap<string, TicketVerdict>;
}

/** What the ITSM said of a request's ticket for one rule: confirmed, refused (why), or no answer. */
export type TicketVerdict =
  { kind: 'confirmed' } | { kind: 'refused'; reason: string } | { kind: 'unavailable'; reason: string };

export type DecisionValue = 'allow' | 'deny' | 'pending';

/** The approval settings a pending request carries (kept with it: decision_requests.approval). */
export interface MergedApproval extends ApprovalSettings {
  /** Present when EVERY matching ask rule says `breakGlass: true` (policy-files.md): the strictest wins. */
  breakGlass?: true;
}

export interface EngineDecision {
  decision: DecisionValue;
  /** The winning effect, or 'default' when no rule matched. */
  decidedBy: Effect | 'default';
  /** Every matching rule id of the winning effect (sorted); empty when the default decided. */
  ruleIds: string[];
  /** For pending: the merged approval settings of the matching ask rules (or the defaults). */
  approval?: MergedApproval;
  /** For allow: the instant the matching windows end (ms), or null when they do not end. */
  windowEnd?: number | null;
  /**
   * For allow: what the agent must do before acting (agent-api.md 1.1), e.g. 'local-consent';
   * for pending: what the allow carries if approvers approve it.
   */
  obligations?: string[];
  /** Why rules with a ticket check did not match as written (refused, or the ITSM's choice on no answer). */
  ticketNotes?: string[];
  /** Rules that failed to evaluate: skipped, never allowed. */
  errors: { ruleId: string; message: string }[];
}
