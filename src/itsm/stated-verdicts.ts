import { z } from 'zod';
import type { PolicyRule } from '../policies/policy.types.js';
import type { TicketVerdict } from '../policies/engine/decision.types.js';
import { refusalBeforeAsking } from './ticket-judgement.js';

const REASON = z.string().trim().min(1).max(500);

/**
 * What the ITSM answers on a ticket, stated instead of asked (policy test cases, the "what if"
 * simulation): `confirmed`, `refused` or `unavailable`, or with the reason `{ refused: "closed" }`,
 * `{ unavailable: "timed out" }`. policy-files.md "Policy test cases" documents it.
 */
export const statedVerdictSchema = z.union(
  [
    z.enum(['confirmed', 'refused', 'unavailable']),
    z.strictObject({ refused: REASON }),
    z.strictObject({ unavailable: REASON }),
  ],
  { error: 'expected confirmed, refused, unavailable, { refused: "why" } or { unavailable: "why" }' },
);
export type StatedVerdict = z.infer<typeof statedVerdictSchema>;

/** The ITSM's answers by ticket number: `{ CHG0012345: confirmed }`. */
export const statedItsmSchema = z.record(z.string().trim().min(1).max(128), statedVerdictSchema);
export type StatedItsm = z.infer<typeof statedItsmSchema>;

/** The engine's verdict for a stated answer on a ticket (the same words as the live checks). */
export function verdictOf(ticket: string, stated: StatedVerdict): TicketVerdict {
  if (stated === 'confirmed') return { kind: 'confirmed' };
  if (stated === 'refused') return { kind: 'refused', reason: `ticket ${ticket} is refused by the ITSM (as stated)` };
  if (stated === 'unavailable') return { kind: 'unavailable', reason: 'ITSM unavailable (as stated)' };
  if ('refused' in stated) return { kind: 'refused', reason: `ticket ${ticket}: ${stated.refused}` };
  return { kind: 'unavailable', reason: `ITSM unavailable: ${stated.unavailable}` };
}

/**
 * The verdicts for the rules that check the request's ticket, from the stated answers: every
 * rule gets the answer on the ticket (a stated answer is per ticket, not per rule). A request
 * without a ticket, or with one ServiceNow has no table for, is refused as the live check
 * refuses it, without a stated answer. `missing`: the ticket has no stated answer.
 */
export function statedVerdicts(
  rules: readonly PolicyRule[],
  ticket: string | undefined,
  stated: StatedItsm | undefined,
): { verdicts: Map<string, TicketVerdict>; missing?: string } {
  const verdicts = new Map<string, TicketVerdict>();
  if (rules.length === 0) return { verdicts };
  const given = ticket && stated && Object.hasOwn(stated, ticket) ? verdictOf(ticket, stated[ticket]) : null;
  const answer = refusalBeforeAsking(ticket) ?? given;
  if (!answer) return { verdicts, missing: ticket };
  for (const rule of rules) verdicts.set(rule.id, answer);
  return { verdicts };
}
