import { describe, expect, it } from '@jest/globals';
import { loadPolicySources } from '../policies/policy-loader.js';
import { offlineRulesFor } from '../policies/engine/offline-policy.js';
import type { PolicySet } from '../policies/policy.types.js';
import type { OfflineDecision } from './agent-policy.dto.js';
import { checkOfflineDecision, type HeldPolicy } from './offline-check.js';
import { fromStoredJson } from './policy-versions.js';

function policySet(yaml: string): PolicySet {
  const result = loadPolicySources([{ name: 'test.yaml', text: yaml }]);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.set;
}

const SET = policySet(`
rules:
  - id: logs-until-2027
    effect: allow
    actions: [log-upload]
    devices: ["*"]
    when: { validUntil: 2027-01-01T00:00:00Z }
    offline: true
`);

const ISSUED = new Date('2026-12-07T10:00:00Z');
const held = (set: PolicySet): HeldPolicy => ({
  firstIssuedAt: ISSUED,
  validUntil: new Date(ISSUED.getTime() + 24 * 3_600_000),
  rules: JSON.parse(JSON.stringify(offlineRulesFor(set, new Set()))),
});
const decision = (over: Partial<OfflineDecision> = {}): OfflineDecision => ({
  requestId: '0f8e3c9a-3b7e-4c52-9a55-2f6f1f0c7e11',
  action: 'log-upload',
  remoteUser: { id: 'u@acme.example' },
  decidedAt: '2026-12-07T12:00:00Z',
  policyVersion: SET.version,
  decision: 'allow',
  ...over,
});
const NOW = new Date('2026-12-07T13:00:00Z');

describe('checking an offline decision', () => {
  it('passes what the held policy allowed then, naming the rule; flags the rest, saying why', () => {
    expect(checkOfflineDecision(decision(), held(SET), NOW)).toEqual({ ruleIds: ['logs-until-2027'], flag: null });
    expect(checkOfflineDecision(decision({ action: 'restart' }), held(SET), NOW).flag).toMatch(/did not allow/);
    expect(checkOfflineDecision(decision({ action: 'restart', decision: 'deny' }), held(SET), NOW).flag).toBeNull();
    expect(checkOfflineDecision(decision(), null, NOW).flag).toMatch(/never given/);
    expect(checkOfflineDecision(decision({ decidedAt: '2026-12-07T13:01:59Z' }), held(SET), NOW).flag).toBeNull();
    expect(checkOfflineDecision(decision({ decidedAt: '2026-12-07T13:02:01Z' }), held(SET), NOW).flag).toMatch(
      /future/,
    );
    const late = new Date('2026-12-08T10:00:01Z');
    expect(checkOfflineDecision(decision({ decidedAt: late.toISOString() }), held(SET), late).flag).toMatch(
      /outside the offline policy's validity/,
    );
  });

  it('reads a stored policy version as the loader gave it (instants as Dates)', () => {
    const stored = fromStoredJson(JSON.parse(JSON.stringify(SET)) as PolicySet);
    expect(stored.rules[0].when?.validUntil).toEqual(new Date('2027-01-01T00:00:00Z'));
    expect(held(stored).rules).toEqual(held(SET).rules);
    // The rule's own end holds offline too.
    const after = new Date('2027-01-01T00:00:01Z');
    const longHeld = { ...held(stored), validUntil: new Date('2027-02-01T00:00:00Z') };
    expect(checkOfflineDecision(decision({ decidedAt: after.toISOString() }), longHeld, after).flag).toMatch(
      /did not allow/,
    );
  });
});
