import type { AuditEvent } from './audit-chain.js';

/**
 * Where an HTTP call came from: the caller's address (the proxy's view when TRUST_PROXY is
 * on) and the call's X-Request-Id, recorded as `details.httpRequestId` so an audit record
 * can be traced to the request log line. Passed explicitly rather than through an
 * AsyncLocalStorage: on Node 20 that puts a hook on every promise of every request
 * (12% of the server's CPU per decision, measured with bench:decisions).
 */
export interface Origin {
  address: string;
  requestId: string;
}

/** Who did something, for the audit trail: a member of staff, or Gatehouse itself (CLI, start-up, jobs). */
export interface Actor {
  type: 'user' | 'system';
  id: string;
  /** Absent for Gatehouse's own work (jobs, the CLI, start-up). */
  origin?: Origin;
}

/** The event's source address and `details.httpRequestId`, from the call's origin. */
export function withOrigin(event: AuditEvent, origin: Origin | undefined): AuditEvent {
  if (!origin) return event;
  return { ...event, sourceAddress: origin.address, details: { ...event.details, httpRequestId: origin.requestId } };
}

/** An audit event done by `actor`, successful unless `fields` say otherwise. */
export function actorEvent(actor: Actor, eventType: string, fields: Partial<AuditEvent> = {}): AuditEvent {
  return withOrigin(
    { eventType, actorType: actor.type, actorId: actor.id, sourceAddress: null, outcome: 'success', ...fields },
    actor.origin,
  );
}
