import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { diffPolicySets, loadPolicyDirectory, loadPolicySources, type LoadResult } from './policy-loader.js';
import { compileGlob, globProblem } from './globs.js';
import type { PolicyProblem, PolicySet } from './policy.types.js';

const EXAMPLE_DIR = fileURLToPath(new URL('./__fixtures__/example', import.meta.url));

/** A file's text from its lines: line numbers are the index + 1. */
const text = (...lines: string[]) => `${lines.join('\n')}\n`;

function loaded(result: LoadResult): PolicySet {
  if (!result.ok) throw new Error(`expected a valid set, got:\n${JSON.stringify(result.problems, null, 2)}`);
  return result.set;
}

function problems(result: LoadResult): PolicyProblem[] {
  if (result.ok) throw new Error('expected problems, the set loaded');
  return result.problems;
}

/** Problems of one file named p.yaml, as [line, message]. */
function problemsOf(...lines: string[]): [number, string][] {
  const result = loadPolicySources([{ name: 'p.yaml', text: text(...lines) }]);
  return result.ok ? [] : result.problems.map((p) => [p.line, p.message]);
}

/** A valid set to start from: one group and one rule, in one file. */
const GROUP = ['deviceGroups:', '  - name: ct-scanners', '    match: { model: ["SOMATOM*"] }'];

/** A file with GROUP and one rule made of `ruleLines` (first rule line is line 5). */
function ruleProblems(...ruleLines: string[]): [number, string][] {
  return problemsOf(...GROUP, 'rules:', ...ruleLines);
}

const BASE_RULE = ['  - id: r1', '    effect: allow', '    actions: [remote-session]', '    devices: [ct-scanners]'];

describe('loading the policy folder', () => {
  it('loads the example of policy-files.md split across two files, with sources and lines', () => {
    const result = loadPolicyDirectory(EXAMPLE_DIR);
    const set = loaded(result);
    if (!result.ok) return;
    // tests/ holds policy test cases in another format: not read.
    expect(result.files).toEqual(['base.yaml', 'rules/ct.yaml']);
    expect(set.version).toMatch(/^[0-9a-f]{64}$/);
    expect(set.defaults).toEqual({
      effect: 'deny',
      approval: { approvers: ['Biomed-Approvers'], required: 1, timeoutMinutes: 60 },
    });
    expect(set.deviceGroups).toEqual([
      { name: 'ct-scanners', match: { model: ['SOMATOM*'] }, source: { kind: 'file', file: 'base.yaml', line: 7 } },
      {
        name: 'injectors',
        match: { model: ['MEDRAD*'], site: ['Main campus'] },
        devices: ['inj-0007'],
        source: { kind: 'file', file: 'base.yaml', line: 9 },
      },
    ]);
    expect(set.access).toEqual([
      { group: 'Gatehouse-Admins', role: 'admin', source: { kind: 'file', file: 'base.yaml', line: 14 } },
      {
        group: 'Biomed-Approvers',
        role: 'approver',
        devices: ['ct-scanners', 'injectors'],
        source: { kind: 'file', file: 'base.yaml', line: 16 },
      },
      { group: 'IT-Security', role: 'auditor', source: { kind: 'file', file: 'base.yaml', line: 19 } },
    ]);
    expect(set.rules).toEqual([
      {
        id: 'ct-sessions-business-hours',
        description: 'Tier-2 engineers of Acme may open sessions on CT scanners in office hours',
        effect: 'allow',
        actions: ['remote-session', 'log-upload'],
        devices: ['ct-scanners'],
        remoteUsers: { enterprises: ['acme-medical'], users: ['*@acme.example'], groups: ['tier2'] },
        target: { paths: ['/var/log/**'], packages: ['ct-fw'] },
        when: {
          timezone: 'Europe/Paris',
          windows: [
            { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' },
            { days: ['sat'], from: '22:00', to: '02:00' },
          ],
          dates: [{ from: '2026-12-24T20:00', to: '2026-12-25T06:00' }],
          validFrom: new Date('2026-12-01T00:00:00Z'),
          validUntil: new Date('2027-06-30T00:00:00Z'),
          deviceState: { inUse: false },
        },
        source: { kind: 'file', file: 'rules/ct.yaml', line: 2 },
      },
      {
        id: 'ct-installs',
        effect: 'ask',
        actions: ['software-install'],
        devices: ['ct-scanners'],
        remoteUsers: { enterprises: ['acme-medical'] },
        approval: {
          approvers: ['Biomed-Approvers', 'Radiology-Leads'],
          required: 2,
          timeoutMinutes: 60,
          maxGrantMinutes: 240,
        },
        source: { kind: 'file', file: 'rules/ct.yaml', line: 25 },
      },
    ]);
  });

  describe('with a folder of its own', () => {
    const dirs: string[] = [];
    const folder = (files: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-policies-'));
      dirs.push(dir);
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(join(dir, name, '..'), { recursive: true });
        writeFileSync(join(dir, name), content);
      }
      return dir;
    };
    afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    it('reads .yaml and .yml recursively in sorted order, skipping tests/ at the top and hidden entries', () => {
      const rule = (id: string) => text('rules:', `  - { id: ${id}, effect: deny, actions: ["*"], devices: ["*"] }`);
      const dir = folder({
        'b.yml': rule('b'),
        'a.yaml': rule('a'),
        'a/z.yaml': rule('az'),
        'site/tests/x.yaml': rule('site-tests'),
        'tests/case.yaml': 'cases: []\n',
        '.github/workflows/ci.yml': 'on: push\n',
        '.hidden.yaml': 'nonsense: true\n',
        'notes.txt': 'not yaml',
      });
      const result = loadPolicyDirectory(dir);
      expect(loaded(result).rules.map((r) => r.id)).toEqual(['a', 'az', 'b', 'site-tests']);
      expect(result.ok && result.files).toEqual(['a.yaml', 'a/z.yaml', 'b.yml', 'site/tests/x.yaml']);
    });

    it('loads an empty folder as the built-in default (deny)', () => {
      const set = loaded(loadPolicyDirectory(folder({})));
      expect(set.defaults).toEqual({ effect: 'deny' });
      expect(set.rules).toEqual([]);
    });

    it('reports a folder that cannot be read, and files that are not UTF-8', () => {
      const missing = join(tmpdir(), 'gatehouse-no-such-folder');
      expect(problems(loadPolicyDirectory(missing))).toEqual([
        { file: missing, line: 0, message: expect.stringMatching(/^cannot read the policy folder: .*ENOENT/) },
      ]);
      const dir = folder({ 'ok.yaml': 'rules: []\n' });
      writeFileSync(join(dir, 'latin1.yaml'), Buffer.from([0x23, 0x20, 0xe9, 0x0a]));
      expect(problems(loadPolicyDirectory(dir))).toEqual([
        { file: 'latin1.yaml', line: 0, message: 'the file is not valid UTF-8' },
      ]);
    });
  });
});

describe('validation', () => {
  it('reports YAML syntax errors and duplicate keys with their lines', () => {
    expect(problemsOf('rules:', '  - id: a', '   effect: deny')).toEqual([
      [3, 'YAML syntax error: Sequence item without - indicator'],
    ]);
    expect(problemsOf('deviceGroups: []', 'rules:', '\t- id: a')).toEqual([
      [3, 'YAML syntax error: Tabs are not allowed as indentation'],
    ]);
    // An unclosed flow list or quote is found where the file goes on without it.
    expect(problemsOf('rules:', '  - id: a', '    effect: [deny', 'x: 1')).toEqual([
      [4, expect.stringMatching(/^YAML syntax error: /)],
    ]);
    expect(problemsOf('rules:', '  - id: a', '    effect: deny', '    effect: allow')).toEqual([
      [4, "duplicate key 'effect'"],
    ]);
    expect(problemsOf('rules: []', '---', 'rules: []')).toEqual([[2, expect.stringMatching(/multiple documents/)]]);
    expect(problemsOf('rules:', '  - *nowhere')).toEqual([
      [2, 'YAML error: Unresolved alias (the anchor must be set before the alias): nowhere'],
    ]);
    expect(problemsOf('rules: !!js/function f')).toEqual([[1, expect.stringMatching(/tag/)]]);
    // An alias counts where it is used.
    expect(problemsOf('rules:', '  - &r { id: a, effect: deny, actions: ["*"], devices: ["*"] }', '  - *r')).toEqual([
      [3, "rules[1].id: duplicate rule id 'a': also used at p.yaml:2"],
    ]);
  });

  it('reports a file that is not a mapping, and takes an empty file as empty', () => {
    expect(problemsOf('- id: a')).toEqual([
      [1, 'expected a mapping with the keys defaults, deviceGroups, access and rules; got a list'],
    ]);
    expect(loaded(loadPolicySources([{ name: 'empty.yaml', text: '# nothing yet\n' }])).rules).toEqual([]);
  });

  it('reports unknown keys at every level, at the line of the key', () => {
    expect(
      problemsOf(
        'defaults:', // 1
        '  effect: deny',
        '  approval: { approvers: [A], quorum: 2 }',
        '  fallback: deny',
        'deviceGroups:', // 5
        '  - name: ct-scanners',
        '    match: { modle: ["SOMATOM*"] }',
        '    color: blue',
        'access:',
        '  - group: Biomed-Approvers', // 10
        '    role: approver',
        '    scope: all',
        'rules:',
        '  - id: r1',
        '    efect: deny', // 15
        '    effect: ask',
        '    actions: [restart]',
        '    devices: [ct-scanners]',
        '    remoteUsers: { user: ["*"] }',
        '    target: { path: ["/x"] }', // 20
        '    when:',
        '      timezone: UTC',
        '      window: []',
        '      windows: [{ days: [mon], from: "08:00", to: "09:00", tz: UTC }]',
        '      dates:', // 25
        '        - from: "2026-01-01T00:00"',
        '          to: "2026-01-02T00:00"',
        '          until: "2026-01-03T00:00"',
        '    approval: { approver: [X] }',
        'rule: []', // 30
      ),
    ).toEqual([
      [3, "defaults.approval: unknown key 'quorum' (expected approvers, required, timeoutMinutes, maxGrantMinutes)"],
      [4, "defaults: unknown key 'fallback' (expected effect, approval)"],
      [7, "deviceGroups[0].match: unknown key 'modle' (did you mean 'model'?)"],
      [8, "deviceGroups[0]: unknown key 'color' (expected name, match, devices, reports)"],
      [12, "access[0]: unknown key 'scope' (expected group, role, devices)"],
      [15, "rules[0]: unknown key 'efect' (did you mean 'effect'?)"],
      [19, "rules[0].remoteUsers: unknown key 'user' (did you mean 'users'?)"],
      [20, "rules[0].target: unknown key 'path' (did you mean 'paths'?)"],
      [23, "rules[0].when: unknown key 'window' (did you mean 'windows'?)"],
      [24, "rules[0].when.windows[0]: unknown key 'tz' (did you mean 'to'?)"],
      [28, "rules[0].when.dates[0]: unknown key 'until' (expected from, to)"],
      [29, "rules[0].approval: unknown key 'approver' (did you mean 'approvers'?)"],
      [30, "unknown key 'rule' (did you mean 'rules'?)"],
    ]);
  });

  it('reports wrong types and missing keys', () => {
    expect(
      ruleProblems(
        '  - id: r1', // 5
        '    effect: allow',
        '    actions: remote-session',
        '    devices: [ct-scanners, 7]',
        '    description: [a]',
        '    when: { deviceState: { inUse: null } }', // 10
        '  - id: r2',
        '    effect: deny',
        'access:',
        '  - role: admin',
      ),
    ).toEqual([
      [7, "rules[0].actions: expected a list; got 'remote-session'"],
      [8, 'rules[0].devices[1]: expected text; got 7'],
      [9, 'rules[0].description: expected text; got a list'],
      [10, 'rules[0].when.deviceState.inUse: expected text, a number or true/false; got nothing'],
      [11, "rules[1]: missing required key 'actions'"],
      [11, "rules[1]: missing required key 'devices'"],
      [14, "access[0]: missing required key 'group'"],
    ]);
    expect(problemsOf('rules:', '  - id: r1', '    effect: alow')).toEqual(
      [
        [3, "rules[0].effect: expected one of allow, ask, deny; got 'alow' (did you mean 'allow'?)"],
        [2, "rules[0]: missing required key 'actions'"],
        [2, "rules[0]: missing required key 'devices'"],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    expect(problemsOf('rules:')).toEqual([[1, 'rules: expected a list; got nothing']]);
  });

  it('checks rule ids', () => {
    const idProblem = (id: string) =>
      problemsOf('rules:', `  - { id: ${JSON.stringify(id)}, effect: deny, actions: ["*"], devices: ["*"] }`);
    expect(idProblem('CT-Installs')).toEqual([
      [
        2,
        "rules[0].id: bad rule id 'CT-Installs': use 1 to 100 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
      ],
    ]);
    expect(idProblem('-lead')).toHaveLength(1);
    expect(idProblem('a'.repeat(101))).toHaveLength(1);
    expect(idProblem('a'.repeat(100))).toEqual([]);
  });

  it('reports duplicate rule ids, device groups and defaults across files, naming both places', () => {
    const a = text(
      'defaults: { effect: deny }', // 1
      'deviceGroups:',
      '  - { name: ct-scanners, devices: [ct-1] }',
      'access:',
      '  - { group: Biomed-Approvers, role: approver }', // 5
      'rules:',
      '  - { id: r1, effect: deny, actions: ["*"], devices: ["*"] }',
    );
    const b = text(
      'rules:', // 1
      '  - { id: r2, effect: deny, actions: ["*"], devices: ["*"] }',
      '  - id: r1',
      '    effect: allow',
      '    actions: ["*"]', // 5
      '    devices: ["*"]',
      'deviceGroups:',
      '  - { name: ct-scanners, devices: [ct-2] }',
      'access:',
      '  - { group: biomed-approvers, role: approver }', // 10
      '  - { group: Biomed-Approvers, role: viewer }',
      'defaults:',
      '  effect: ask',
      '  approval: { approvers: [X] }',
    );
    expect(
      problems(
        loadPolicySources([
          { name: 'b.yaml', text: b },
          { name: 'a.yaml', text: a },
        ]),
      ),
    ).toEqual([
      { file: 'b.yaml', line: 3, message: "rules[1].id: duplicate rule id 'r1': also used at a.yaml:7" },
      {
        file: 'b.yaml',
        line: 8,
        message: "deviceGroups[0].name: duplicate device group 'ct-scanners': also defined at a.yaml:3",
      },
      {
        file: 'b.yaml',
        line: 12,
        message: 'defaults: defaults are also given at a.yaml:1: give them in one file only',
      },
    ]);
  });

  it('merges access entries of the same group and role (one file or several): the device scopes are the union', () => {
    const department = (name: string, ...entries: string[]) => ({
      name,
      text: text(
        'deviceGroups:',
        `  - { name: ${name}-a, devices: [${name}-1] }`,
        `  - { name: ${name}-b, devices: [${name}-2] }`,
        'access:',
        ...entries,
      ),
    });
    const result = loadPolicySources([
      department('ct', '  - { group: Biomed-Approvers, role: approver, devices: [ct-a] }'),
      department(
        'mr',
        '  - { group: biomed-approvers, role: approver, devices: [mr-b, mr-a] }',
        '  - { group: Biomed-Approvers, role: approver, devices: [ct-a] }',
        '  - { group: Biomed-Approvers, role: viewer, devices: [mr-a] }',
        '  - { group: Viewers, role: viewer, devices: [mr-a] }',
        '  - { group: Viewers, role: viewer }',
      ),
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.set.access.map(({ group, role, devices }) => ({ group, role, devices }))).toEqual([
      { group: 'Biomed-Approvers', role: 'approver', devices: ['ct-a', 'mr-a', 'mr-b'] },
      { group: 'Biomed-Approvers', role: 'viewer', devices: ['mr-a'] },
      // An entry for all devices makes the union all devices.
      { group: 'Viewers', role: 'viewer', devices: undefined },
    ]);
  });

  it('reports references to unknown device groups in rules and access entries', () => {
    expect(
      problemsOf(
        ...GROUP,
        'access:', // 4
        '  - group: Biomed-Approvers',
        '    role: approver',
        '    devices: [ct-scanners, mri-scanners]',
        '  - { group: Viewers, role: viewer, devices: ["*"] }',
        'rules:',
        '  - id: r1', // 10
        '    effect: deny',
        '    actions: [restart]',
        '    devices:',
        '      - ct-scaners',
        '      - ct-scanners', // 15
      ),
    ).toEqual([
      [7, "access[0].devices[1]: unknown device group 'mri-scanners'"],
      [8, "access[1].devices[0]: '*' is not needed here: leave devices out for all devices"],
      [14, "rules[0].devices[0]: unknown device group 'ct-scaners' (did you mean 'ct-scanners'?)"],
    ]);
  });

  it('does not report unknown device groups when a file could not be read (they may be defined there)', () => {
    const result = loadPolicySources([
      { name: 'groups.yaml', text: text('deviceGroups:', '  - name: [ct-scanners') },
      {
        name: 'rules.yaml',
        text: text('rules:', '  - { id: r1, effect: deny, actions: ["*"], devices: [ct-scanners] }'),
      },
    ]);
    expect(problems(result).map((p) => p.file)).toEqual(['groups.yaml']);
  });

  it('checks device groups', () => {
    expect(
      problemsOf(
        'deviceGroups:',
        '  - name: empty', // 2
        '  - name: no-attributes',
        '    match: {}',
        '  - name: Bad Name', // 5
        '    devices: [a, a]',
      ),
    ).toEqual([
      [2, 'deviceGroups[0]: a device group needs match or devices (it has no members)'],
      [4, 'deviceGroups[1].match: must name at least one device attribute'],
      [
        5,
        "deviceGroups[2].name: bad device group name 'Bad Name': use 1 to 100 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
      ],
      [6, "deviceGroups[2].devices[1]: 'a' is listed twice"],
    ]);
  });

  describe('time conditions', () => {
    const when = (...lines: string[]) => ruleProblems(...BASE_RULE, '    when:', ...lines.map((l) => `      ${l}`));

    it('wants IANA time zones', () => {
      expect(when('timezone: Europe/Paris')).toEqual([]);
      expect(when('timezone: UTC')).toEqual([]);
      expect(when('timezone: Etc/UTC')).toEqual([]);
      expect(when('timezone: Europe/Pariss')).toEqual([
        [
          10,
          "rules[0].when.timezone: unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?): expected an IANA name such as Europe/Paris, or UTC",
        ],
      ]);
      expect(when('timezone: europe/paris')[0]).toEqual([
        10,
        expect.stringContaining("(did you mean 'Europe/Paris'?)"),
      ]);
      expect(when('timezone: "+01:00"')).toHaveLength(1);
      expect(when('timezone: CET-ish')).toHaveLength(1);
    });

    it('wants a time zone with windows and dates', () => {
      expect(
        when(
          'windows: [{ days: [mon], from: "08:00", to: "18:00" }]', // 10
          'dates: [{ from: "2026-12-24T20:00", to: "2026-12-25T06:00" }]',
        ),
      ).toEqual([
        [10, 'rules[0].when.windows: windows need a timezone (an IANA name such as Europe/Paris) in this when'],
        [11, 'rules[0].when.dates: dates need a timezone (an IANA name such as Europe/Paris) in this when'],
      ]);
    });

    it('wants times as HH:MM, with 24:00 only as the end', () => {
      expect(
        when(
          'timezone: UTC', // 10
          'windows:',
          '  - { days: [mon], from: "25:00", to: "8:00" }',
          '  - { days: [tue], from: "24:00", to: "24:00" }',
          '  - { days: [wed], from: "00:00", to: "24:00" }',
          '  - { days: [thu], from: "09:00", to: "09:00" }', // 15
          '  - { days: [fri], from: 0800, to: "12:60" }',
          '  - { days: [sat], from: "22:00", to: "02:00" }',
        ),
      ).toEqual([
        [12, "rules[0].when.windows[0].from: bad time '25:00': expected HH:MM from 00:00 to 23:59"],
        [12, "rules[0].when.windows[0].to: bad time '8:00': expected HH:MM from 00:00 to 23:59, or 24:00"],
        [13, "rules[0].when.windows[1].from: bad time '24:00': expected HH:MM from 00:00 to 23:59"],
        [
          15,
          'rules[0].when.windows[3]: from and to are both 09:00: the window is empty (from 00:00 to 24:00 is the whole day)',
        ],
        [16, 'rules[0].when.windows[4].from: expected text; got 800'],
        [16, "rules[0].when.windows[4].to: bad time '12:60': expected HH:MM from 00:00 to 23:59, or 24:00"],
      ]);
    });

    it('wants known days', () => {
      expect(
        when('timezone: UTC', 'windows:', '  - days: [mon, monday, mon]', '    from: "08:00"', '    to: "09:00"'),
      ).toEqual([
        [12, "rules[0].when.windows[0].days[1]: expected one of mon, tue, wed, thu, fri, sat, sun; got 'monday'"],
      ]);
      expect(when('timezone: UTC', 'windows:', '  - { days: [mon, mon], from: "08:00", to: "09:00" }')).toEqual([
        [12, "rules[0].when.windows[0].days[1]: 'mon' is listed twice"],
      ]);
      expect(when('timezone: UTC', 'windows:', '  - { days: [], from: "08:00", to: "09:00" }')).toEqual([
        [12, 'rules[0].when.windows[0].days: must not be empty'],
      ]);
    });

    it('wants one-off dates as YYYY-MM-DDTHH:MM, from before to', () => {
      expect(
        when(
          'timezone: Europe/Paris', // 10
          'dates:',
          '  - { from: "2026-12-24 20:00", to: "2026-02-30T06:00" }',
          '  - { from: "2026-12-25T06:00", to: "2026-12-24T20:00" }',
          '  - { from: "2026-12-25T06:00", to: "2026-12-25T06:00" }',
          '  - { from: "2028-02-29T00:00", to: "2028-03-01T00:00" }', // 15
        ),
      ).toEqual([
        [
          12,
          "rules[0].when.dates[0].from: bad local date and time '2026-12-24 20:00': expected YYYY-MM-DDTHH:MM, like 2026-12-24T20:00",
        ],
        [
          12,
          "rules[0].when.dates[0].to: bad local date and time '2026-02-30T06:00': expected YYYY-MM-DDTHH:MM, like 2026-12-24T20:00",
        ],
        [13, 'rules[0].when.dates[1]: from (2026-12-25T06:00) must be before to (2026-12-24T20:00)'],
        [14, 'rules[0].when.dates[2]: from (2026-12-25T06:00) must be before to (2026-12-25T06:00)'],
      ]);
    });

    it('wants validFrom before validUntil, with a zone', () => {
      expect(when('validFrom: 2027-01-01T00:00:00Z', 'validUntil: 2027-01-01T01:00:00+01:00')).toEqual([
        [
          11,
          'rules[0].when.validUntil: validUntil (2027-01-01T01:00:00+01:00) must be after validFrom (2027-01-01T00:00:00Z)',
        ],
      ]);
      expect(when('validFrom: 2027-01-01T00:00:00', 'validUntil: 2027-01-01')).toEqual([
        [
          10,
          "rules[0].when.validFrom: bad date and time '2027-01-01T00:00:00': expected an ISO 8601 date and time with its zone, like 2026-12-01T00:00:00Z or 2026-12-01T00:00+01:00",
        ],
        [11, expect.stringMatching(/^rules\[0\]\.when\.validUntil: bad date and time '2027-01-01'/)],
      ]);
      expect(when('validFrom: 2027-01-01T00:00+01:00', 'validUntil: 2027-01-01T00:00:00.5Z')).toEqual([]);
    });
  });

  it('checks the keys added this round: reports, breakGlass, ticket, attended, offline, versions, sha256', () => {
    expect(
      problemsOf(
        'deviceGroups:',
        '  - name: g', // 2
        '    devices: [d1]',
        '    reports: { recipients: [not-an-address], digest: [hourly] }',
        'rules:', // 5
        '  - id: r1',
        '    effect: deny',
        '    actions: [software-install]',
        '    devices: [g]',
        '    breakGlass: true', // 10
        '    offline: true',
        '  - id: r2',
        '    effect: allow',
        '    actions: [software-install]',
        '    devices: [g]', // 15
        '    ticket: { required: true, pattern: "^(INC[0-9", check: jira, onUnavailable: allow }',
        '    target: { versions: ["2.*"], sha256: [abc] }',
        '    attended: yes',
      ),
    ).toEqual([
      [4, 'deviceGroups[0].reports.recipients[0]: Invalid email address'],
      [4, "deviceGroups[0].reports.digest[0]: expected one of daily, weekly; got 'hourly'"],
      [10, "rules[0].breakGlass: 'breakGlass: true' is for ask rules only"],
      [11, "rules[0].offline: 'offline: true' is for allow rules only"],
      [16, expect.stringMatching(/^rules\[1\]\.ticket\.pattern: bad regular expression '\^\(INC\[0-9': /)],
      [16, expect.stringMatching(/^rules\[1\]\.ticket\.check: expected one of servicenow/)],
      [16, expect.stringMatching(/^rules\[1\]\.ticket\.onUnavailable: expected one of deny, ask/)],
      [17, "rules[1].target.sha256[0]: bad sha256 'abc': 64 lowercase hexadecimal digits"],
      [18, expect.stringMatching(/^rules\[1\]\.attended: /)],
    ]);
    const ok = loadPolicySources([
      {
        name: 'p.yaml',
        text: [
          'deviceGroups: [{ name: g, devices: [d1], reports: { recipients: [head@hospital.example], digest: [daily] } }]',
          'rules:',
          '  - { id: a, effect: ask, actions: ["*"], devices: [g], breakGlass: true, approval: { approvers: [B] },',
          '      ticket: { required: true, pattern: "^CHG[0-9]+$", check: servicenow, onUnavailable: deny } }',
          '  - { id: b, effect: allow, actions: [log-upload], devices: [g], offline: true, attended: true }',
        ].join('\n'),
      },
    ]);
    if (!ok.ok) throw new Error(JSON.stringify(ok.problems));
    expect(ok.set.deviceGroups[0].reports).toEqual({ recipients: ['head@hospital.example'], digest: ['daily'] });
    expect(ok.set.rules.map((r) => [r.breakGlass, r.ticket, r.offline, r.attended])).toEqual([
      [
        true,
        { required: true, pattern: '^CHG[0-9]+$', check: 'servicenow', onUnavailable: 'deny' },
        undefined,
        undefined,
      ],
      [undefined, undefined, true, true],
    ]);
  });

  it("wants a ticket 'check' for ciMatch and onUnavailable, and no offline rule with one", () => {
    expect(
      problemsOf(
        'deviceGroups: [{ name: g, devices: [d1] }]',
        'rules:',
        '  - { id: a, effect: allow, actions: [log-upload], devices: [g], ticket: { required: true, ciMatch: true } }',
        '  - { id: b, effect: allow, actions: [log-upload], devices: [g], ticket: { onUnavailable: ask } }',
        '  - id: c', // 5
        '    effect: allow',
        '    actions: [log-upload]',
        '    devices: [g]',
        '    offline: true',
        '    ticket: { required: true, check: servicenow }', // 10
      ),
    ).toEqual([
      [3, "rules[0].ticket: needs 'check: servicenow'"],
      [4, "rules[1].ticket: needs 'check: servicenow'"],
      [9, "rules[2].offline: 'offline: true' cannot go with a ticket 'check'"],
    ]);
    const ok = loadPolicySources([
      {
        name: 'p.yaml',
        text: [
          'deviceGroups: [{ name: g, devices: [d1] }]',
          'rules:',
          '  - { id: a, effect: allow, actions: [remote-session], devices: [g],',
          '      ticket: { required: true, check: servicenow, ciMatch: true, onUnavailable: ask } }',
        ].join('\n'),
      },
    ]);
    if (!ok.ok) throw new Error(JSON.stringify(ok.problems));
    expect(ok.set.rules[0].ticket).toEqual({
      required: true,
      check: 'servicenow',
      ciMatch: true,
      onUnavailable: 'ask',
    });
  });

  it('checks globs in remote users, targets and device groups', () => {
    expect(
      problemsOf(
        'deviceGroups:',
        '  - name: g', // 2
        '    match: { model: ["SOMATOM[X"], site: [""] }',
        'rules:',
        '  - id: r1',
        '    effect: deny', // 6
        '    actions: [file-download]',
        '    devices: [g]',
        '    remoteUsers: { users: ["*@{acme,globex}.example"], groups: ["**"] }',
        '    target:', // 10
        '      paths: ["/var/log/**", "/var/log**", "/data/**/x.log", "/x/[a/b]"]',
        '      packages: ["ct-fw]"]',
      ),
    ).toEqual([
      [
        3,
        "deviceGroups[0].match.model[0]: bad pattern 'SOMATOM[X': unbalanced '[' (no closing ']'); write '[[]' for a literal '['",
      ],
      [3, "deviceGroups[0].match.site[0]: bad pattern '': empty pattern"],
      [
        9,
        "rules[0].remoteUsers.users[0]: bad pattern '*@{acme,globex}.example': braces are not supported: list the alternatives as separate patterns",
      ],
      [9, "rules[0].remoteUsers.groups[0]: bad pattern '**': '**' is only for paths; use '*'"],
      [
        11,
        "rules[0].target.paths[1]: bad path pattern '/var/log**': '**' must be a whole path segment, as in /var/log/** or /data/**/x.log",
      ],
      [11, "rules[0].target.paths[3]: bad path pattern '/x/[a/b]': a '[...]' set cannot match '/' in a path"],
      [
        12,
        "rules[0].target.packages[0]: bad pattern 'ct-fw]': unbalanced ']' (no opening '['); write '[]]' for a literal ']'",
      ],
    ]);
  });

  it('checks actions', () => {
    expect(
      ruleProblems(
        '  - id: r1', // 5
        '    effect: deny',
        '    actions: [remote-sesion, x-calibrate, x-, "*"]',
        '    devices: ["*", ct-scanners]',
        '  - { id: r2, effect: deny, actions: [], devices: ["*"] }',
      ),
    ).toEqual([
      [
        7,
        "rules[0].actions[0]: unknown action 'remote-sesion' (did you mean 'remote-session'?): expected one of remote-session, file-upload, file-download, log-upload, software-install, script-run, config-change, restart, a custom x-<name>, or '*'",
      ],
      [7, "rules[0].actions[2]: bad custom action 'x-': x- and then lowercase letters, digits, '.', '_' or '-'"],
      [7, "rules[0].actions[3]: '*' must stand alone"],
      [8, "rules[0].devices[0]: '*' must stand alone"],
      [9, 'rules[1].actions: must not be empty'],
    ]);
  });

  describe('approvals', () => {
    const ask = ['  - id: r1', '    effect: ask', '    actions: [software-install]', '    devices: [ct-scanners]'];

    it('wants approvers for an ask rule, from the rule or the defaults', () => {
      expect(ruleProblems(...ask)).toEqual([
        [
          6,
          'rules[0].effect: effect ask needs approvers: give approval.approvers in this rule or defaults.approval.approvers',
        ],
      ]);
      expect(ruleProblems(...ask, '    approval: { required: 2 }')).toHaveLength(1);
      expect(ruleProblems(...ask, '    approval: { approvers: [Biomed-Approvers] }')).toEqual([]);
      const defaults = text('defaults:', '  approval: { approvers: [Biomed-Approvers], timeoutMinutes: 30 }');
      const rules = text(...GROUP, 'rules:', ...ask, '    approval: { required: 2 }');
      const set = loaded(
        loadPolicySources([
          { name: 'defaults.yaml', text: defaults },
          { name: 'rules.yaml', text: rules },
        ]),
      );
      // Every ask rule carries complete settings: its own, else the defaults', else built in.
      expect(set.rules[0].approval).toEqual({ approvers: ['Biomed-Approvers'], required: 2, timeoutMinutes: 30 });
      expect(set.defaults.approval).toEqual({ approvers: ['Biomed-Approvers'], required: 1, timeoutMinutes: 30 });
    });

    it('checks the numbers', () => {
      expect(
        ruleProblems(
          ...ask,
          '    approval:', // 9
          '      approvers: [A, B, A]',
          '      required: 0',
          '      timeoutMinutes: 10081',
          '      maxGrantMinutes: 1441',
          '  - id: r2', // 14
          '    effect: ask',
          '    actions: [software-install]',
          '    devices: [ct-scanners]',
          '    approval: { approvers: [A], required: 1.5, timeoutMinutes: 0, maxGrantMinutes: -1 }',
        ),
      ).toEqual([
        [10, "rules[0].approval.approvers[2]: 'A' is listed twice"],
        [11, 'rules[0].approval.required: must be at least 1; got 0'],
        [12, 'rules[0].approval.timeoutMinutes: must be at most 10080; got 10081'],
        [13, 'rules[0].approval.maxGrantMinutes: must be at most 1440; got 1441'],
        [18, 'rules[1].approval.required: expected a whole number; got 1.5'],
        [18, 'rules[1].approval.timeoutMinutes: must be at least 1; got 0'],
        [18, 'rules[1].approval.maxGrantMinutes: must be at least 0; got -1'],
      ]);
      expect(
        ruleProblems(
          ...ask,
          '    approval: { approvers: [A], required: 5, timeoutMinutes: 10080, maxGrantMinutes: 0 }',
        ),
      ).toEqual([]);
    });

    it('refuses approval on a rule that does not ask', () => {
      expect(ruleProblems(...BASE_RULE, '    approval: { approvers: [A] }')).toEqual([
        [9, "rules[0].approval: approval is only for effect ask (this rule's effect is allow)"],
      ]);
    });

    it('allows deny or ask as the default effect, ask only with approvers', () => {
      expect(problemsOf('defaults:', '  effect: allow')).toEqual([
        [
          2,
          "defaults.effect: expected one of deny, ask; got 'allow' (allow cannot be the default: what no rule allows is denied or asked)",
        ],
      ]);
      expect(problemsOf('defaults:', '  effect: ask')).toEqual([
        [2, 'defaults.effect: ask as the default needs defaults.approval with approvers'],
      ]);
      expect(problemsOf('defaults:', '  approval: { required: 1 }')).toEqual([
        [2, "defaults.approval: missing required key 'approvers'"],
      ]);
      const set = loaded(
        loadPolicySources([
          { name: 'd.yaml', text: text('defaults:', '  effect: ask', '  approval: { approvers: [A] }') },
        ]),
      );
      expect(set.defaults).toEqual({ effect: 'ask', approval: { approvers: ['A'], required: 1, timeoutMinutes: 60 } });
    });
  });

  it('reports all the problems of several files at once, sorted by file and line', () => {
    const result = loadPolicySources([
      {
        name: 'rules.yaml',
        text: text(
          'rules:',
          '  - id: Bad_Id', // 2
          '    efect: allow',
          '    effect: ask',
          '    actions: [reboot]', // 5
          '    devices: [mri-scanners]',
          '    when:',
          '      windows: [{ days: [mon], from: "8:00", to: "18:00" }]',
          '    approval: { required: 0, timeoutMinutes: 60 }',
        ),
      },
      {
        name: 'groups.yaml',
        text: text('deviceGroups:', '  - name: ct-scanners', '    match: { model: ["SOMATOM*"], site: ["["] }'),
      },
    ]);
    expect(problems(result).map((p) => `${p.file}:${p.line} ${p.message.replace(/:.*/, '')}`)).toEqual([
      'groups.yaml:3 deviceGroups[0].match.site[0]',
      'rules.yaml:2 rules[0].id',
      'rules.yaml:3 rules[0]',
      'rules.yaml:4 rules[0].effect',
      'rules.yaml:5 rules[0].actions[0]',
      'rules.yaml:6 rules[0].devices[0]',
      'rules.yaml:8 rules[0].when.windows[0].from',
      'rules.yaml:8 rules[0].when.windows',
      'rules.yaml:9 rules[0].approval.required',
    ]);
  });
});

describe('the version of a set', () => {
  const groups = text('deviceGroups:', '  - name: ct-scanners', '    match: { model: ["SOMATOM*"] }');
  const rules = text(
    'rules:',
    '  - id: r1',
    '    effect: allow',
    '    actions: [remote-session]',
    '    devices: [ct-scanners]',
    '    when: { timezone: Europe/Paris, windows: [{ days: [mon], from: "08:00", to: "18:00" }] }',
    '  - id: r2',
    '    effect: deny',
    '    actions: ["*"]',
    '    devices: ["*"]',
  );
  const version = (...files: string[]) =>
    loaded(loadPolicySources(files.map((t, k) => ({ name: `f${k}.yaml`, text: t })))).version;

  it('stays when files are reformatted, keys reordered, rules reordered or moved between files', () => {
    const v = version(groups, rules);
    expect(v).toMatch(/^[0-9a-f]{64}$/);
    const reformatted = text(
      '# the same rules, written otherwise',
      'rules:',
      '- devices: ["*"]',
      '  actions: ["*"]',
      '  effect: deny',
      '  id: r2',
      '- id: r1',
      '  devices:',
      '    - ct-scanners',
      '  effect: allow',
      '  when:',
      '    windows:',
      '      - to: "18:00"',
      '        from: "08:00"',
      '        days: [mon]',
      '    timezone: Europe/Paris',
      '  actions: [remote-session]',
    );
    expect(version(reformatted, groups)).toBe(v);
    const moved = text(groups.trimEnd(), 'rules:', '  - { id: r2, effect: deny, actions: ["*"], devices: ["*"] }');
    const rest = rules.replace(/ {2}- id: r2[\s\S]*$/, '');
    expect(version(moved, rest)).toBe(v);
  });

  it('changes when a rule changes', () => {
    const v = version(groups, rules);
    expect(version(groups, rules.replace('"18:00"', '"19:00"'))).not.toBe(v);
    expect(version(groups, rules.replace('effect: deny', 'effect: allow'))).not.toBe(v);
    expect(version(groups.replace('SOMATOM*', 'SOMATOM X*'), rules)).not.toBe(v);
  });
});

describe('diffPolicySets', () => {
  const load = (t: string) => loaded(loadPolicySources([{ name: 'p.yaml', text: t }]));
  const before = load(
    text(
      'defaults: { effect: deny }',
      'deviceGroups:',
      '  - { name: ct-scanners, match: { model: ["SOMATOM*"] } }',
      '  - { name: injectors, devices: [inj-1] }',
      'access:',
      '  - { group: Biomed-Approvers, role: approver, devices: [ct-scanners] }',
      '  - { group: IT-Security, role: auditor }',
      'rules:',
      '  - { id: r1, effect: deny, actions: [restart], devices: [ct-scanners] }',
      '  - { id: r2, effect: allow, actions: [log-upload], devices: ["*"] }',
      '  - { id: r3, effect: allow, actions: [remote-session], devices: [injectors] }',
    ),
  );

  it('lists everything as added when there was no set before', () => {
    expect(diffPolicySets(null, before)).toEqual({
      added: [
        'access:Biomed-Approvers/approver',
        'access:IT-Security/auditor',
        'defaults:effect',
        'group:ct-scanners',
        'group:injectors',
        'r1',
        'r2',
        'r3',
      ],
      removed: [],
      changed: [],
    });
  });

  it('names added, removed and changed rules, groups, access entries and defaults', () => {
    const after = load(
      text(
        'defaults: { effect: ask, approval: { approvers: [Biomed-Approvers] } }',
        'deviceGroups:',
        '  - { name: ct-scanners, match: { model: ["SOMATOM*", "NAEOTOM*"] } }',
        '  - { name: mri-scanners, match: { model: ["MAGNETOM*"] } }',
        'access:',
        '  - { group: Biomed-Approvers, role: approver, devices: [ct-scanners, mri-scanners] }',
        '  - { group: IT-Security, role: viewer }',
        'rules:',
        '  - { id: r2, effect: allow, actions: [log-upload], devices: ["*"] }',
        '  - { id: r1, effect: deny, actions: [restart, config-change], devices: [ct-scanners] }',
        '  - { id: r4, effect: deny, actions: [restart], devices: [mri-scanners] }',
      ),
    );
    expect(diffPolicySets(before, after)).toEqual({
      added: ['access:IT-Security/viewer', 'defaults:approval', 'group:mri-scanners', 'r4'],
      removed: ['access:IT-Security/auditor', 'group:injectors', 'r3'],
      changed: ['access:Biomed-Approvers/approver', 'defaults:effect', 'group:ct-scanners', 'r1'],
    });
  });

  it('finds no change in a set that was only moved around', () => {
    const split = loaded(
      loadPolicySources([
        {
          name: 'a.yaml',
          text: text(
            'rules:',
            '  - { id: r3, effect: allow, actions: [remote-session], devices: [injectors] }',
            '  - { id: r1, devices: [ct-scanners], effect: deny, actions: [restart] }',
            'access:',
            '  - { group: IT-Security, role: auditor }',
            '  - { group: Biomed-Approvers, role: approver, devices: [ct-scanners] }',
          ),
        },
        {
          name: 'b.yaml',
          text: text(
            'deviceGroups:',
            '  - { name: injectors, devices: [inj-1] }',
            '  - { name: ct-scanners, match: { model: ["SOMATOM*"] } }',
            'rules:',
            '  - { id: r2, effect: allow, actions: [log-upload], devices: ["*"] }',
            'defaults: { effect: deny }',
          ),
        },
      ]),
    );
    expect(diffPolicySets(before, split)).toEqual({ added: [], removed: [], changed: [] });
    expect(split.version).toBe(before.version);
  });
});

describe('globs', () => {
  const matches = (glob: string, kind: 'path' | 'name', value: string) => compileGlob(glob, kind).test(value);

  it('matches paths segment by segment', () => {
    expect(matches('/var/log/**', 'path', '/var/log/a/b.log')).toBe(true);
    expect(matches('/var/log/**', 'path', '/var/log')).toBe(false);
    expect(matches('/var/log/*', 'path', '/var/log/a.log')).toBe(true);
    expect(matches('/var/log/*', 'path', '/var/log/a/b.log')).toBe(false);
    expect(matches('/data/**/x.log', 'path', '/data/x.log')).toBe(true);
    expect(matches('/data/**/x.log', 'path', '/data/a/b/x.log')).toBe(true);
    expect(matches('**/x.log', 'path', 'x.log')).toBe(true);
    expect(matches('/a?c', 'path', '/a/c')).toBe(false);
    expect(matches('/log[0-9].txt', 'path', '/log7.txt')).toBe(true);
    expect(matches('/log[!0-9].txt', 'path', '/logx.txt')).toBe(true);
    expect(matches('/log[!0-9].txt', 'path', '/log/.txt')).toBe(false);
  });

  it('matches names flat, with literal brackets written as sets', () => {
    expect(matches('*@acme.example', 'name', 'jdoe@acme.example')).toBe(true);
    expect(matches('*@acme.example', 'name', 'jdoe@acme-example')).toBe(false);
    expect(matches('SOMATOM*', 'name', 'SOMATOM X.cite')).toBe(true);
    expect(matches('a*', 'name', 'a/b')).toBe(true);
    expect(matches('v[*]', 'name', 'v*')).toBe(true);
    expect(matches('v[*]', 'name', 'vx')).toBe(false);
    expect(matches('[]]x', 'name', ']x')).toBe(true);
    expect(matches('C:\\Logs\\*', 'name', 'C:\\Logs\\a.txt')).toBe(true);
    expect(matches('a.b', 'name', 'axb')).toBe(false);
  });

  it('refuses bad globs', () => {
    expect(globProblem('', 'name')).toBe('empty pattern');
    expect(globProblem('[z-a]', 'name')).toBe("bad range 'z-a' in '[...]'");
    expect(globProblem('[', 'name')).toMatch(/unbalanced/);
    expect(globProblem('/a/**b', 'path')).toMatch(/whole path segment/);
    expect(globProblem('/a/***', 'path')).toMatch(/whole path segment/);
    expect(() => compileGlob('{a,b}', 'name')).toThrow(/braces/);
  });
});
