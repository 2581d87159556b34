import type { TicketCondition } from '../policies/policy.types.js';
import type { TicketVerdict } from '../policies/engine/decision.types.js';
import type { TicketRecord, TicketTable } from './servicenow-client.js';

/** The table a ticket number is looked up in, by its prefix; null for numbers of other kinds. */
export function tableOf(ticket: string): TicketTable | null {
  // Only these characters reach the Table API query (where '^' would join further conditions).
  if (/^CHG[0-9]{1,30}$/.test(ticket)) return 'change_request';
  if (/^INC[0-9]{1,30}$/.test(ticket)) return 'incident';
  return null;
}

/**
 * The refusal that holds before any ITSM is asked: no ticket, or not a number ServiceNow
 * has a table for. Null when the ITSM must be asked (or its answer stated, in tests).
 */
export function refusalBeforeAsking(ticket: string | undefined): TicketVerdict | null {
  if (!ticket) return { kind: 'refused', reason: 'no ticket given (context.ticket) to check with ServiceNow' };
  if (!tableOf(ticket)) {
    return {
      kind: 'refused',
      reason: `ticket ${ticket} is not a ServiceNow change (CHG…) or incident (INC…) number`,
    };
  }
  return null;
}

export interface AllowedStates {
  change_request: string[];
  incident: string[];
}

/**
 * Whether the ticket, as ServiceNow holds it, confirms a rule for this device now: in an
 * allowed state (by value or label), naming the device as its configuration item when the
 * rule says `ciMatch`, and (changes) with a planned window that covers now. Incidents have
 * no planned window: an open incident holds while it is open.
 */
export function judgeTicket(
  record: TicketRecord,
  rule: TicketCondition,
  deviceId: string,
  now: Date,
  allowed: AllowedStates,
): TicketVerdict {
  const name = record.number;
  const states = allowed[record.table];
  const state = record.state;
  if (!states.some((s) => s === state.value.toLowerCase() || s === state.display.toLowerCase())) {
    const shown = state.display || state.value || '(none)';
    return { kind: 'refused', reason: `ticket ${name} is ${shown}, not ${states.join(' or ')}` };
  }
  if (rule.ciMatch) {
    const ci = record.ci;
    const names = ci ? [ci.display, ci.value].map((v) => v.toLowerCase()) : [];
    if (!names.includes(deviceId.toLowerCase())) {
      const shown = ci ? `'${ci.display || ci.value}'` : 'no configuration item';
      return { kind: 'refused', reason: `ticket ${name} names ${shown}, not this device (${deviceId})` };
    }
  }
  if (record.table === 'change_request') {
    const { plannedStart: from, plannedEnd: to } = record;
    if (!from || !to) return { kind: 'refused', reason: `ticket ${name} has no planned start and end` };
    if (now < from || now >= to) {
      return {
        kind: 'refused',
        reason: `ticket ${name} is planned from ${from.toISOString()} to ${to.toISOString()}, not now`,
      };
    }
  }
  return { kind: 'confirmed' };
}
