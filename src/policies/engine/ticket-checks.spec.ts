import { describe, expect, it } from '@jest/globals';
import { loadPolicySources } from '../policy-loader.js';
import type { DecisionInput, TicketVerdict } from './decision.types.js';
import { PolicyEngine } from './policy-engine.js';

const SET = `
defaults: { effect: deny, approval: { approvers: [Biomed-Approvers], required: 1, timeoutMinutes: 60 } }
deviceGroups: [{ name: ct-scanners, devices: [ct-0042] }]
rules:
  - id: sessions-with-change
    effect: allow
    actions: [remote-session]
    devices: [ct-scanners]
    ticket: { required: true, pattern: "^CHG[0-9]{7}$", check: servicenow, onUnavailable: ask }
  - id: downloads-with-ticket
    effect: allow
    actions: [file-download]
    devices: [ct-scanners]
    ticket: { required: true, check: servicenow }
  - id: logs
    effect: allow
    actions: [log-upload]
    devices: [ct-scanners]
`;

function engineOf(yaml: string): PolicyEngine {
  const result = loadPolicySources([{ name: 'test.yaml', text: yaml }]);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return new PolicyEngine(result.set);
}

const input = (action: string, ticket?: string, verdicts?: Record<string, TicketVerdict>): DecisionInput => ({
  action,
  remoteUser: { id: 'jdoe@acme.example' },
  context: ticket ? { ticket } : undefined,
  device: { id: 'ct-0042', groups: new Set(['ct-scanners']), state: null, stateReportedAt: null },
  now: Date.parse('2026-11-24T08:00:00Z'),
  stateMaxAgeMs: 60_000,
  ticketVerdicts: verdicts && new Map(Object.entries(verdicts)),
});

describe('rules whose ticket the ITSM must confirm', () => {
  const engine = engineOf(SET);

  it('names the rules to check: those that match but for the check, none for other requests', () => {
    expect(engine.ticketChecksFor(input('remote-session', 'CHG0000001')).map((r) => r.id)).toEqual([
      'sessions-with-change',
    ]);
    // The pattern does not match, or no ticket: the rule does not match, there is nothing to check.
    expect(engine.ticketChecksFor(input('remote-session', 'INC0000001'))).toEqual([]);
    expect(engine.ticketChecksFor(input('remote-session'))).toEqual([]);
    expect(engine.ticketChecksFor(input('log-upload', 'CHG0000001'))).toEqual([]);
    const plain = engineOf(SET.replace(/ *ticket: .*\n/g, ''));
    expect(plain.ticketChecksFor(input('remote-session', 'CHG0000001'))).toEqual([]);
  });

  it('allows only on a confirmation; without a verdict the rule does not match', () => {
    const confirmed = { 'sessions-with-change': { kind: 'confirmed' } as const };
    expect(engine.decide(input('remote-session', 'CHG0000001', confirmed))).toMatchObject({
      decision: 'allow',
      ruleIds: ['sessions-with-change'],
    });
    expect(engine.decide(input('remote-session', 'CHG0000001'))).toMatchObject({
      decision: 'deny',
      decidedBy: 'default',
      ticketNotes: ['sessions-with-change: the ticket was not checked with the ITSM'],
    });
  });

  it('a refused ticket makes the rule not match, and says why', () => {
    const refused = { 'sessions-with-change': { kind: 'refused', reason: 'ticket CHG0000001 is Closed' } as const };
    expect(engine.decide(input('remote-session', 'CHG0000001', refused))).toEqual({
      decision: 'deny',
      decidedBy: 'default',
      ruleIds: [],
      ticketNotes: ['sessions-with-change: ticket CHG0000001 is Closed'],
      errors: [],
    });
  });

  it("no answer from the ITSM: the rule's onUnavailable, ask or deny (the default), never allow", () => {
    const down: TicketVerdict = { kind: 'unavailable', reason: 'ITSM unavailable: timed out' };
    expect(engine.decide(input('remote-session', 'CHG0000001', { 'sessions-with-change': down }))).toMatchObject({
      decision: 'pending',
      decidedBy: 'ask',
      ruleIds: ['sessions-with-change'],
      approval: { approvers: ['Biomed-Approvers'], required: 1 },
      ticketNotes: ['sessions-with-change: ITSM unavailable: timed out'],
    });
    expect(engine.decide(input('file-download', 'CHG0000001', { 'downloads-with-ticket': down }))).toMatchObject({
      decision: 'deny',
      decidedBy: 'deny',
      ruleIds: ['downloads-with-ticket'],
    });
  });
});
