import { describe, expect, it } from '@jest/globals';
import { loadPolicySources } from '../policy-loader.js';
import type { PolicySet } from '../policy.types.js';
import type { DecisionInput } from './decision.types.js';
import { offlineAbility, offlineRulesFor } from './offline-policy.js';
import { PolicyEngine } from './policy-engine.js';
import { requestSubject } from './rule-conditions.js';
import { ruleConditionsMatcher } from './rule-operators.js';

function policySet(yaml: string): PolicySet {
  const result = loadPolicySources([{ name: 'test.yaml', text: yaml }]);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.set;
}

const SET = policySet(`
deviceGroups:
  - { name: ct, devices: [ct-1] }
  - { name: mr, devices: [mr-1] }
rules:
  - id: installs-with-change
    effect: allow
    actions: [software-install]
    devices: [ct]
    target: { packages: ["ct-fw"], versions: ["2.*"], sha256: ["${'a'.repeat(64)}"] }
    ticket: { required: true, pattern: "^(INC|CHG)[0-9]{7}$" }
  - id: attended-sessions
    effect: allow
    actions: [remote-session]
    devices: [ct]
    attended: true
  - id: attended-config-ask
    effect: ask
    actions: [config-change]
    devices: [ct]
    approval: { approvers: [ct-approvers], required: 1, timeoutMinutes: 60 }
    attended: true
  - id: logs-offline
    effect: allow
    actions: [log-upload]
    devices: ["*"]
    remoteUsers: { enterprises: [acme] }
    when: { validUntil: 2027-01-01T00:00:00Z }
    offline: true
  - id: mr-sessions-offline
    effect: allow
    actions: [remote-session]
    devices: [mr]
    offline: true
`);

const NOW = Date.parse('2026-12-07T10:00:00Z');
const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  action: 'software-install',
  remoteUser: { id: 'u@acme.example', enterprise: 'acme' },
  target: { package: 'ct-fw', version: '2.1', sha256: 'A'.repeat(64) },
  context: { ticket: 'CHG0000001' },
  device: { id: 'ct-1', groups: new Set(['ct']), state: null, stateReportedAt: null },
  now: NOW,
  stateMaxAgeMs: 90_000,
  ...over,
});

describe('rule conditions', () => {
  const engine = new PolicyEngine(SET);

  it('matches package, version and sha256 (either case of hex digits), with a ticket of the pattern', () => {
    expect(engine.decide(input())).toMatchObject({ decision: 'allow', ruleIds: ['installs-with-change'] });
    expect(
      engine.decide(input({ target: { package: 'ct-fw', version: '3.0', sha256: 'a'.repeat(64) } })).decision,
    ).toBe('deny');
    expect(
      engine.decide(input({ target: { package: 'ct-fw', version: '2.1', sha256: 'b'.repeat(64) } })).decision,
    ).toBe('deny');
  });

  it('does not match without the required ticket or with one not of the pattern, and says why', () => {
    for (const context of [undefined, { ticket: 'TASK123' }]) {
      expect(engine.decide(input({ context })).decision).toBe('deny');
    }
    const why = (context?: { ticket?: string }) =>
      engine.explain(input({ context })).find((e) => e.ruleId === 'installs-with-change')?.reason;
    expect(why()).toBe('no ticket given (context.ticket), and the rule requires one');
    expect(why({ ticket: 'TASK123' })).toBe("ticket 'TASK123' does not match ^(INC|CHG)[0-9]{7}$");
  });

  it('puts the local-consent obligation on an allow by an attended rule', () => {
    expect(engine.decide(input({ action: 'remote-session' }))).toMatchObject({
      decision: 'allow',
      obligations: ['local-consent'],
    });
    expect(engine.decide(input()).obligations).toBeUndefined();
  });

  it('keeps the obligation of an attended ask rule on the pending answer, for the allow after approval', () => {
    expect(engine.decide(input({ action: 'config-change' }))).toMatchObject({
      decision: 'pending',
      ruleIds: ['attended-config-ask'],
      obligations: ['local-consent'],
    });
  });

  it('refuses operators outside the allow-list, on a field or at the top', () => {
    expect(() => ruleConditionsMatcher({ path: { $where: 'true' } })).toThrow(/\$where is not allowed/);
    expect(() => ruleConditionsMatcher({ $or: [] })).toThrow(/\$or is not allowed/);
  });
});

describe('offline policy', () => {
  it("packs the device's offline rules with their conditions; an agent's ability allows only what they allow", () => {
    const packed = offlineRulesFor(SET, new Set(['ct']));
    expect(packed.map((rule) => rule.at(-1))).toEqual(['logs-offline']);
    // Through JSON, as it travels to the agent.
    const ability = offlineAbility(JSON.parse(JSON.stringify(packed)) as typeof packed);
    const subject = (over: Partial<DecisionInput>) => requestSubject(input({ action: 'log-upload', ...over }));
    expect(ability.can('log-upload', subject({}) as never)).toBe(true);
    expect(ability.can('remote-session', subject({}) as never)).toBe(false);
    expect(ability.can('log-upload', subject({ remoteUser: { id: 'x', enterprise: 'globex' } }) as never)).toBe(false);
    expect(ability.can('log-upload', subject({ now: Date.parse('2027-02-01T00:00:00Z') }) as never)).toBe(false);
    expect(offlineRulesFor(SET, new Set(['mr'])).map((rule) => rule.at(-1))).toEqual([
      'logs-offline',
      'mr-sessions-offline',
    ]);
  });
});
