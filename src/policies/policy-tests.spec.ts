import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadPolicySources } from './policy-loader.js';
import { runPolicyTests } from './policy-tests.js';

const SET = `
defaults: { effect: deny, approval: { approvers: [Biomed-Approvers], required: 1, timeoutMinutes: 60 } }
deviceGroups: [{ name: ct-scanners, devices: [ct-0042] }]
rules:
  - id: sessions-with-change
    effect: allow
    actions: [remote-session]
    devices: [ct-scanners]
    ticket: { required: true, pattern: "^(INC|CHG)[0-9]{7}$", check: servicenow, onUnavailable: ask }
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

/** One case of a session (or another action) on ct-0042 with a ticket, and what the ITSM answers. */
const testCase = (name: string, extra: string, expect: string, action = 'remote-session', ticket = 'CHG0012345') => `
  - name: ${name}
    at: "2026-11-24T09:00:00+01:00"
    device: { id: ct-0042, model: "SOMATOM X.cite" }
    request:
      action: ${action}
      remoteUser: { id: "jdoe@acme.example" }
      context: { ticket: ${ticket} }${extra}
    expect: ${expect}
`;

describe('policy test cases for rules whose ticket the ITSM checks', () => {
  const loaded = loadPolicySources([{ name: 'rules.yaml', text: SET }]);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-tests-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (cases: string) => {
    writeFileSync(join(dir, 'tickets.yaml'), `cases:${cases}`);
    return runPolicyTests(loaded.set, dir);
  };

  it('decides with the stated answer: confirmed allows, refused denies with the reason, unavailable does onUnavailable', () => {
    const { results, problems } = run(
      testCase(
        'confirmed',
        '\n    itsm: { CHG0012345: confirmed }',
        '{ decision: allow, rules: [sessions-with-change] }',
      ) +
        testCase('refused', '\n    itsm: { CHG0012345: { refused: "closed" } }', '{ decision: deny, rules: [] }') +
        testCase('refused plainly', '\n    itsm: { CHG0012345: refused }', '{ decision: deny, rules: [] }') +
        testCase(
          'unavailable, ask',
          '\n    itsm: { CHG0012345: unavailable }',
          '{ decision: pending, rules: [sessions-with-change] }',
        ) +
        testCase(
          'unavailable, deny (the default)',
          '\n    itsm: { CHG0012345: { unavailable: "timed out" } }',
          '{ decision: deny, rules: [downloads-with-ticket] }',
          'file-download',
        ) +
        testCase('no check for other rules', '', '{ decision: allow, rules: [logs] }', 'log-upload'),
    );
    expect(problems).toEqual([]);
    expect(results.map((r) => [r.name, r.passed, r.actual])).toEqual([
      ['confirmed', true, 'allow [sessions-with-change]'],
      ['refused', true, 'deny [] (ticket: sessions-with-change: ticket CHG0012345: closed)'],
      [
        'refused plainly',
        true,
        'deny [] (ticket: sessions-with-change: ticket CHG0012345 is refused by the ITSM (as stated))',
      ],
      [
        'unavailable, ask',
        true,
        'pending [sessions-with-change] (ticket: sessions-with-change: ITSM unavailable (as stated))',
      ],
      [
        'unavailable, deny (the default)',
        true,
        'deny [downloads-with-ticket] (ticket: downloads-with-ticket: ITSM unavailable: timed out)',
      ],
      ['no check for other rules', true, 'allow [logs]'],
    ]);
  });

  it('a checked rule without a stated answer fails the case, naming the rule and the ticket (never an allow)', () => {
    const { results, problems } = run(
      testCase('no answer', '', '{ decision: allow, rules: [sessions-with-change] }') +
        testCase(
          'not a ServiceNow number, refused as live',
          '',
          '{ decision: deny, rules: [] }',
          'file-download',
          'RITM001',
        ),
    );
    expect(problems).toEqual([]);
    expect(results[0]).toMatchObject({
      passed: false,
      expected: 'allow [sessions-with-change]',
      actual:
        'no ITSM answer for ticket CHG0012345, which rule sessions-with-change checks: state it in the case, ' +
        'e.g. itsm: { CHG0012345: confirmed } (or refused, unavailable, { refused: "why" })',
    });
    // Nothing to ask the ITSM about: refused as the live check refuses it, no answer needed.
    expect(results[1]).toMatchObject({ passed: true, actual: expect.stringContaining('is not a ServiceNow change') });
  });

  it('reports a wrong answer, and one for another ticket, by file and line', () => {
    const { problems } = run(
      testCase('typo', '\n    itsm: { CHG0012345: confirmd }', '{ decision: allow, rules: [sessions-with-change] }'),
    );
    expect(problems).toEqual([
      'tickets.yaml:9: cases[0].itsm.CHG0012345: expected confirmed, refused, unavailable, { refused: "why" } or { unavailable: "why" }',
    ]);
    const other = run(
      testCase(
        'other ticket',
        '\n    itsm:\n      CHG0012345: confirmed\n      CHG0099999: refused',
        '{ decision: allow, rules: [sessions-with-change] }',
      ),
    );
    expect(other.problems).toEqual([
      "tickets.yaml:11: cases[0].itsm.CHG0099999: the request's ticket (request.context.ticket) is 'CHG0012345', not 'CHG0099999'",
    ]);
  });
});
