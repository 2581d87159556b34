import type { AuditEvent } from './audit-chain.js';

/** Who did something, for the audit trail: a member of staff, or Gatehouse itself (CLI, start-up, jobs). */
export interface Actor {
  type: 'user' | 'system';
  id: string;
  sourceAddress?: string | null;
}

/** An audit event done by `actor`, successful unless `fields` say otherwise. */
export function actorEvent(actor: Actor, eventType: string, fields: Partial<AuditEvent> = {}): AuditEvent {
  return {
    eventType,
    actorType: actor.type,
    actorId: actor.id,
    sourceAddress: actor.sourceAddress ?? null,
    outcome: 'success',
    ...fields,
  };
}
