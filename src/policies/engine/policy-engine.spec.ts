import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { loadPolicySources } from '../policy-loader.js';
import type { PolicySet } from '../policy.types.js';
import type { DecisionInput } from './decision.types.js';
import { DeviceGrouper } from './device-groups.js';
import { PolicyEngine } from './policy-engine.js';

function policySet(yaml: string): PolicySet {
  const result = loadPolicySources([{ name: 'test.yaml', text: yaml }]);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.set;
}

const BASE = `
defaults: { effect: deny, approval: { approvers: [Biomed-Approvers], required: 1, timeoutMinutes: 60 } }
deviceGroups:
  - { name: ct-scanners, match: { model: ["SOMATOM*"] } }
  - { name: injectors, match: { model: ["MEDRAD*"] }, devices: [inj-0007] }
rules:
  - id: ct-sessions-office-hours
    effect: allow
    actions: [remote-session, log-upload]
    devices: [ct-scanners]
    remoteUsers: { enterprises: [acme-medical], users: ["*@acme.example"], groups: [tier2] }
    when:
      timezone: Europe/Paris
      windows: [{ days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00" }]
  - id: ct-logs-always
    effect: allow
    actions: [log-upload]
    devices: [ct-scanners]
    remoteUsers: { enterprises: [acme-medical] }
  - id: ct-installs
    effect: ask
    actions: [software-install]
    devices: [ct-scanners]
    remoteUsers: { enterprises: [acme-medical] }
    approval: { approvers: [Biomed-Approvers, Radiology-Leads], required: 2, timeoutMinutes: 60, maxGrantMinutes: 240 }
  - id: installs-from-release-folder
    effect: ask
    actions: [software-install]
    devices: ["*"]
    target: { packages: ["ct-*"] }
    approval: { approvers: [Biomed-Approvers], required: 1, timeoutMinutes: 30 }
  - id: no-globex-on-ct
    effect: deny
    actions: ["*"]
    devices: [ct-scanners]
    remoteUsers: { enterprises: [globex] }
  - id: restart-when-idle
    effect: allow
    actions: [restart]
    devices: ["*"]
    when: { deviceState: { inUse: false } }
`;

const grouper = (set: PolicySet) => new DeviceGrouper(set.deviceGroups);
const TUESDAY_9_PARIS = Date.parse('2026-11-24T09:00:00+01:00');

function input(set: PolicySet, over: Partial<DecisionInput> & { model?: string } = {}): DecisionInput {
  const groups = grouper(set).groupsOf({
    deviceId: 'ct-0042',
    model: over.model ?? 'SOMATOM X.cite',
    site: 'Main campus',
    serialNumber: null,
    agentVersion: null,
    assignedGroups: [],
  });
  return {
    action: 'remote-session',
    remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
    device: { id: 'ct-0042', groups, state: null, stateReportedAt: null },
    now: TUESDAY_9_PARIS,
    stateMaxAgeMs: 90_000,
    ...over,
  };
}

describe('policy engine', () => {
  const set = policySet(BASE);
  const engine = new PolicyEngine(set);

  it('allows in the window and names the rule; denies by default outside it', () => {
    expect(engine.decide(input(set))).toMatchObject({ decision: 'allow', ruleIds: ['ct-sessions-office-hours'] });
    expect(engine.decide(input(set)).windowEnd).toBe(Date.parse('2026-11-24T18:00:00+01:00'));
    const evening = engine.decide(input(set, { now: Date.parse('2026-11-24T19:00:00+01:00') }));
    expect(evening).toMatchObject({ decision: 'deny', decidedBy: 'default', ruleIds: [] });
  });

  it('lists every matching rule of the winning effect', () => {
    const d = engine.decide(input(set, { action: 'log-upload' }));
    expect(d).toMatchObject({ decision: 'allow', ruleIds: ['ct-logs-always', 'ct-sessions-office-hours'] });
    expect(d.windowEnd).toBeNull(); // one of them never ends
  });

  it('lets deny win over allow, and ask over allow', () => {
    const globex = input(set, { action: 'log-upload', remoteUser: { id: 'x@globex.example', enterprise: 'globex' } });
    expect(engine.decide(globex)).toMatchObject({ decision: 'deny', decidedBy: 'deny', ruleIds: ['no-globex-on-ct'] });
    const install = engine.decide(input(set, { action: 'software-install', target: { package: 'ct-fw' } }));
    expect(install).toMatchObject({ decision: 'pending', ruleIds: ['ct-installs', 'installs-from-release-folder'] });
  });

  it('merges the approval settings of several ask rules into the strictest', () => {
    const d = engine.decide(input(set, { action: 'software-install', target: { package: 'ct-fw' } }));
    expect(d.approval).toEqual({
      approvers: ['Biomed-Approvers'],
      required: 2,
      timeoutMinutes: 30,
      maxGrantMinutes: 240,
    });
  });

  it('carries breakGlass only when every matching ask rule allows it', () => {
    const breakGlassOn = (ruleId: string) =>
      BASE.replace(`  - id: ${ruleId}\n`, `  - id: ${ruleId}\n    breakGlass: true\n`);
    const decide = (yaml: string, pkg: string) =>
      new PolicyEngine(policySet(yaml)).decide(
        input(policySet(yaml), { action: 'software-install', target: { package: pkg } }),
      );
    // One rule, with it: the request may be broken open.
    expect(decide(breakGlassOn('ct-installs'), 'other-fw').approval).toMatchObject({ breakGlass: true });
    // Two rules, one without it: the strictest wins, no break-glass.
    expect(decide(breakGlassOn('ct-installs'), 'ct-fw').approval).not.toHaveProperty('breakGlass');
    // Off by default.
    expect(decide(BASE, 'other-fw').approval).not.toHaveProperty('breakGlass');
  });

  it('uses device state only when fresh; unknown state never satisfies a condition', () => {
    const restart = (state: Record<string, unknown> | null, age: number | null) =>
      engine.decide(
        input(set, {
          action: 'restart',
          device: {
            id: 'ct-0042',
            groups: new Set(['ct-scanners']),
            state,
            stateReportedAt: age === null ? null : TUESDAY_9_PARIS - age,
          },
        }),
      ).decision;
    expect(restart({ inUse: false }, 10_000)).toBe('allow');
    expect(restart({ inUse: true }, 10_000)).toBe('deny');
    expect(restart({ inUse: false }, 91_000)).toBe('deny');
    expect(restart(null, null)).toBe('deny');
  });

  it('puts devices in groups by match globs and by explicit membership', () => {
    const g = grouper(set);
    const attrs = { site: null, serialNumber: null, agentVersion: null, assignedGroups: [] };
    expect([...g.groupsOf({ ...attrs, deviceId: 'x', model: 'MEDRAD Stellant' })]).toEqual(['injectors']);
    expect([...g.groupsOf({ ...attrs, deviceId: 'inj-0007', model: 'Other' })]).toEqual(['injectors']);
    expect([...g.groupsOf({ ...attrs, deviceId: 'y', model: 'Other', assignedGroups: ['lab'] })]).toEqual(['lab']);
  });

  it('explains, for each rule, why it matched or the first condition that did not', () => {
    const lines = engine.explain(input(set, { now: Date.parse('2026-11-28T10:00:00+01:00') }));
    expect(lines.find((l) => l.ruleId === 'ct-sessions-office-hours')?.reason).toMatch(/outside windows/);
    expect(lines.find((l) => l.ruleId === 'ct-logs-always')?.reason).toMatch(
      /action 'remote-session' is not one of log-upload/,
    );
    expect(lines.find((l) => l.ruleId === 'no-globex-on-ct')?.reason).toMatch(/enterprise 'acme-medical'/);
  });

  it('judges the normalized target path: no climbing out of an allowed folder', () => {
    const logs = policySet(
      BASE.replace(
        'rules:',
        'rules:\n  - { id: logs, effect: allow, actions: [file-download], devices: ["*"], target: { paths: ["/var/log/**"] } }',
      ),
    );
    const engine = new PolicyEngine(logs);
    const download = (path: string) =>
      engine.decide(input(logs, { action: 'file-download', target: { path } })).decision;
    expect(download('/var/log/ct/system.log')).toBe('allow');
    expect(download('/var/log/../../etc/shadow')).toBe('deny');
    expect(download('/var/log/./ct//a.log')).toBe('allow');
    expect(download('/var/log\\..\\..\\etc\\shadow')).toBe('deny');
  });

  it('keeps one ability per remote user identity (id, enterprise, groups), shared by users the same rules name', () => {
    const fresh = new PolicyEngine(set);
    const as = (id: string, enterprise?: string) =>
      fresh.decide(input(set, { action: 'log-upload', remoteUser: { id, enterprise, groups: ['tier2'] } }));
    expect(as('a@acme.example', 'acme-medical').ruleIds).toEqual(['ct-logs-always', 'ct-sessions-office-hours']);
    expect(as('b@acme.example', 'acme-medical').ruleIds).toEqual(['ct-logs-always', 'ct-sessions-office-hours']);
    expect(fresh.cachedAbilities).toBe(2);
    // Two users whom the same rules name share one ability.
    expect(fresh.distinctAbilities).toBe(1);
    // The same id with another enterprise is another remote user.
    expect(as('a@acme.example', 'globex')).toMatchObject({ decision: 'deny', ruleIds: ['no-globex-on-ct'] });
    expect(as('a@acme.example')).toMatchObject({ decision: 'deny', decidedBy: 'default' });
    expect(fresh.cachedAbilities).toBe(4);
    expect(fresh.distinctAbilities).toBe(3);
    expect(as('a@acme.example', 'acme-medical').ruleIds).toEqual(['ct-logs-always', 'ct-sessions-office-hours']);
    expect(fresh.cachedAbilities).toBe(4);
  });

  it('honours an ask default', () => {
    const askSet = policySet(BASE.replace('effect: deny, approval', 'effect: ask, approval'));
    const d = new PolicyEngine(askSet).decide(input(askSet, { action: 'file-upload' }));
    expect(d).toMatchObject({ decision: 'pending', decidedBy: 'default', ruleIds: [], approval: { required: 1 } });
  });
});

describe('policy engine laws (property-based)', () => {
  const ACTIONS = ['remote-session', 'log-upload', 'restart', 'software-install'];
  const ENTERPRISES = ['acme-medical', 'globex'];
  const GROUPS = ['ct-scanners', 'injectors'];
  const ruleArb = fc.record({
    effect: fc.constantFrom('allow', 'ask', 'deny'),
    actions: fc.subarray([...ACTIONS, '*'], { minLength: 1 }).map((a) => (a.includes('*') ? ['*'] : a)),
    devices: fc.subarray([...GROUPS, '*'], { minLength: 1 }).map((d) => (d.includes('*') ? ['*'] : d)),
    enterprises: fc.option(fc.subarray(ENTERPRISES, { minLength: 1 }), { nil: undefined }),
  });
  const yamlOf = (rules: { effect: string; actions: string[]; devices: string[]; enterprises?: string[] }[]) =>
    `defaults: { effect: deny, approval: { approvers: [Biomed], required: 1, timeoutMinutes: 60 } }
deviceGroups:
  - { name: ct-scanners, match: { model: ["SOMATOM*"] } }
  - { name: injectors, match: { model: ["MEDRAD*"] } }
${rules.length ? 'rules:' : ''}
${rules
  .map(
    (r, i) => `  - id: r${i}
    effect: ${r.effect}
    actions: [${r.actions.map((a) => `"${a}"`).join(', ')}]
    devices: [${r.devices.map((d) => `"${d}"`).join(', ')}]${r.enterprises ? `\n    remoteUsers: { enterprises: [${r.enterprises.join(', ')}] }` : ''}`,
  )
  .join('\n')}
`;
  const requestArb = fc.record({
    action: fc.constantFrom(...ACTIONS),
    enterprise: fc.constantFrom(...ENTERPRISES),
    model: fc.constantFrom('SOMATOM X', 'MEDRAD Y'),
  });
  const toInput = (set: PolicySet, r: { action: string; enterprise: string; model: string }) =>
    input(set, { action: r.action, model: r.model, remoteUser: { id: 'u@x', enterprise: r.enterprise } });
  const rank = { deny: 0, pending: 1, allow: 2 } as const;

  it('decides by precedence: deny, then ask, then allow, then the default', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 8 }), requestArb, (rules, req) => {
        const set = policySet(yamlOf(rules));
        const engine = new PolicyEngine(set);
        const i = toInput(set, req);
        const matching = engine.explain(i).filter((l) => l.matches);
        const expected = matching.some((l) => l.effect === 'deny')
          ? 'deny'
          : matching.some((l) => l.effect === 'ask')
            ? 'pending'
            : matching.some((l) => l.effect === 'allow')
              ? 'allow'
              : 'deny';
        expect(engine.decide(i).decision).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('never becomes more permissive when a deny rule is added, and always answers the same', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 8 }), ruleArb, requestArb, (rules, extra, req) => {
        const before = policySet(yamlOf(rules));
        const after = policySet(yamlOf([...rules, { ...extra, effect: 'deny' }]));
        const a = new PolicyEngine(before).decide(toInput(before, req));
        const b = new PolicyEngine(after).decide(toInput(after, req));
        expect(rank[b.decision]).toBeLessThanOrEqual(rank[a.decision]);
        expect(new PolicyEngine(after).decide(toInput(after, req))).toEqual(b);
      }),
      { numRuns: 200 },
    );
  });
});
