/** A deterministic world: devices, remote users and a policy set as YAML files, and random requests. */
import { stringify } from 'yaml';
import type { DecisionInput } from '../../src/policies/engine/decision.types.js';
import type { DeviceAttributes } from '../../src/policies/engine/device-groups.js';
import type { PolicySourceText } from '../../src/policies/policy-loader.js';
import { ACTION_CATALOGUE } from '../../src/policies/policy-schema.js';
import {
  DAY_MS,
  DEVICES,
  ENTERPRISES,
  GROUPS,
  MODELS,
  RULES,
  RULES_PER_FILE,
  SITES,
  STATE_MAX_AGE_MS,
  USERS_PER_ENTERPRISE,
  YEAR_MS,
  YEAR_START,
  ZONES,
} from './options.js';

/** mulberry32: small, fast, and the same sequence on every run. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** k distinct items, in the order drawn. */
  sample<T>(items: readonly T[], k: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(k, items.length)) chosen.add(this.int(items.length));
    return [...chosen].map((i) => items[i]);
  }
}

export const pad = (n: number, width: number): string => String(n).padStart(width, '0');
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const enterprise = (e: number): string => `ent-${pad(e, 2)}`;
const clock = (minutes: number): string => `${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const USER_GROUPS = ['tier1', 'tier2', 'tier3', 'field-service', 'remote-ops'];
const SITE_NAMES = ['North', 'South', 'East', 'West', 'Main'];
const FILE_PATHS = [
  '/var/log/syslog',
  '/var/log/app/trace.1.log',
  '/data/images/2026/ct-0001.dcm',
  '/opt/app/conf/settings.ini',
  '/etc/shadow',
  '/var/log/../../etc/passwd',
  '/tmp/core.1234',
];
const PACKAGES = ['pkg-recon', 'pkg-viewer', 'fw-ct-4.2', 'fw-mr-1.9', 'tools'];
const PATH_GLOBS = ['/var/log/**', '/data/**', '/opt/app/*/*.ini', '**/core.[0-9]*', '/tmp/**'];
const PACKAGE_GLOBS = ['pkg-*', 'fw-ct-?.*', 'fw-*', 'tools'];

export interface RemoteUser {
  id: string;
  enterprise: string;
  groups: string[];
}

export interface World {
  devices: DeviceAttributes[];
  users: RemoteUser[];
  sources: PolicySourceText[];
}

function randomWindow(rng: Rng): { days: string[]; from: string; to: string } {
  const r = rng.next();
  const days =
    r < 0.5
      ? ['mon', 'tue', 'wed', 'thu', 'fri']
      : r < 0.65
        ? ['sat', 'sun']
        : rng.sample(WEEKDAYS, 1 + rng.int(7)).sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b));
  const start = rng.int(48) * 30;
  const end = start + (2 + rng.int(27)) * 30; // 1 to 14 hours; past 24:00 crosses midnight
  return { days, from: clock(start), to: end === 1440 ? '24:00' : clock(end % 1440) };
}

function randomDates(rng: Rng): { from: string; to: string } {
  const from = YEAR_START + rng.int(360) * DAY_MS + rng.int(24) * 3_600_000;
  const to = from + (1 + rng.int(72)) * 3_600_000;
  const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  return { from: local(from), to: local(to) };
}

function generateRule(rng: Rng, k: number, groupNames: string[]): Record<string, unknown> {
  const r = rng.next();
  const effect = r < 0.8 ? 'allow' : r < 0.92 ? 'ask' : 'deny';
  const actions = rng.chance(0.005) ? ['*'] : rng.sample(ACTION_CATALOGUE, rng.chance(0.3) ? 2 + rng.int(2) : 1);
  const devices = rng.chance(0.01) ? ['*'] : rng.sample(groupNames, 1 + rng.int(3));
  const rule: Record<string, unknown> = {
    id: `gen-${pad(k, 4)}`,
    description: `Generated rule ${k}: ${effect} ${actions.join(', ')}`,
    effect,
    actions,
    devices,
  };

  const e = rng.int(ENTERPRISES);
  const domain = `@${enterprise(e)}.example`;
  const remoteUsers: Record<string, string[]> = {};
  if (rng.chance(0.9)) {
    remoteUsers.enterprises = rng.chance(0.2)
      ? [enterprise(e), enterprise((e + 1 + rng.int(ENTERPRISES - 1)) % ENTERPRISES)]
      : [enterprise(e)];
  }
  const u = rng.next();
  if (u < 0.6) remoteUsers.users = [`*${domain}`];
  else if (u < 0.8)
    remoteUsers.users = rng.sample(range(USERS_PER_ENTERPRISE), 1 + rng.int(5)).map((n) => `u${pad(n, 3)}${domain}`);
  else if (u < 0.9) remoteUsers.users = [`u0${rng.int(10)}*${domain}`];
  if (rng.chance(0.3)) remoteUsers.groups = rng.sample(['tier1', 'tier2', 'tier*', 'field-*'], 1 + rng.int(2));
  if (Object.keys(remoteUsers).length > 0) rule.remoteUsers = remoteUsers;

  const fileAction = actions.some((a) => a === 'file-upload' || a === 'file-download');
  if (fileAction && rng.chance(0.4)) rule.target = { paths: rng.sample(PATH_GLOBS, 1 + rng.int(2)) };
  else if (actions.includes('software-install') && rng.chance(0.4)) {
    rule.target = { packages: rng.sample(PACKAGE_GLOBS, 1 + rng.int(2)) };
  }

  const when: Record<string, unknown> = {};
  if (rng.chance(0.5)) {
    when.timezone = rng.pick(ZONES);
    if (rng.chance(0.85)) when.windows = Array.from({ length: 1 + rng.int(2) }, () => randomWindow(rng));
    if (when.windows === undefined || rng.chance(0.15)) when.dates = [randomDates(rng)];
    if (rng.chance(0.1)) {
      when.validFrom = '2026-03-01T00:00:00Z';
      when.validUntil = '2026-11-01T00:00:00+01:00';
    }
  }
  if (rng.chance(0.1)) when.deviceState = rng.chance(0.7) ? { inUse: false } : { mode: 'service' };
  if (Object.keys(when).length > 0) rule.when = when;

  if (effect === 'ask' && rng.chance(0.6)) {
    rule.approval = {
      approvers: rng.chance(0.5) ? ['Biomed-Approvers'] : ['Biomed-Approvers', 'Radiology-Leads'],
      required: 1 + rng.int(2),
      timeoutMinutes: rng.pick([30, 60, 120]),
      ...(rng.chance(0.3) ? { maxGrantMinutes: 120 } : {}),
    };
  }
  return rule;
}

export function generateWorld(rng: Rng): World {
  const devices: DeviceAttributes[] = range(DEVICES).map((i) => {
    const site = rng.int(SITES);
    return {
      deviceId: `dev-${pad(i, 5)}`,
      model: `MODEL-${pad(rng.int(MODELS), 3)}-${'ABCD'[rng.int(4)]}${rng.int(10)}`,
      site: `Site-${pad(site, 2)} ${SITE_NAMES[site % SITE_NAMES.length]} campus`,
      serialNumber: `SN${pad(rng.int(1_000_000), 6)}`,
      agentVersion: `6.${rng.int(4)}.${rng.int(10)}`,
      assignedGroups: rng.chance(0.05) ? [`grp-${pad(rng.int(GROUPS), 3)}`] : [],
    };
  });
  const deviceIds = devices.map((d) => d.deviceId);

  const users: RemoteUser[] = [];
  for (let e = 0; e < ENTERPRISES; e++) {
    for (let u = 0; u < USERS_PER_ENTERPRISE; u++) {
      users.push({
        id: `u${pad(u, 3)}@${enterprise(e)}.example`,
        enterprise: enterprise(e),
        groups: rng.sample(USER_GROUPS, 1 + rng.int(2)),
      });
    }
  }

  // Groups 0-79 by model (every fourth also takes one of models 80-99, every tenth only at
  // sites 00-09); groups 80-99 by site. Each also lists some devices by id.
  const groupNames = range(GROUPS).map((g) => `grp-${pad(g, 3)}`);
  const deviceGroups = groupNames.map((name, g) => {
    let match: Record<string, string[]>;
    if (g < 80) {
      const model = [`MODEL-${pad(g, 3)}*`];
      if (g % 4 === 3) model.push(`MODEL-${pad(80 + (g - 3) / 4, 3)}*`);
      match = g % 10 === 9 ? { model, site: ['Site-0[0-9]*'] } : { model };
    } else {
      match = { site: [`Site-${pad(g - 80, 2)} *`] };
    }
    return { name, match, devices: rng.sample(deviceIds, 5 + rng.int(16)) };
  });

  const rules = range(RULES).map((k) => generateRule(rng, k, groupNames));
  const sources: PolicySourceText[] = [
    {
      name: 'defaults.yaml',
      text: stringify({
        defaults: { effect: 'deny', approval: { approvers: ['Biomed-Approvers'], required: 1, timeoutMinutes: 60 } },
      }),
    },
    {
      name: 'access.yaml',
      text: stringify({
        access: [
          { group: 'Gatehouse-Admins', role: 'admin' },
          { group: 'Biomed-Approvers', role: 'approver' },
          { group: 'Radiology-Leads', role: 'approver', devices: groupNames.slice(0, 40) },
        ],
      }),
    },
    { name: 'device-groups.yaml', text: stringify({ deviceGroups }) },
  ];
  for (let f = 0; f * RULES_PER_FILE < RULES; f++) {
    const slice = rules.slice(f * RULES_PER_FILE, (f + 1) * RULES_PER_FILE);
    sources.push({ name: `rules/generated-${pad(f, 2)}.yaml`, text: stringify({ rules: slice }) });
  }
  return { devices, users, sources };
}

/** Random requests: device (with its groups), remote user, action, instant over 2026, device state. */
export function makeInputs(rng: Rng, world: World, groupSets: ReadonlySet<string>[], n: number): DecisionInput[] {
  const inputs: DecisionInput[] = [];
  for (let i = 0; i < n; i++) {
    const d = rng.int(world.devices.length);
    const user = rng.pick(world.users);
    const action = rng.pick(ACTION_CATALOGUE);
    const now = YEAR_START + Math.floor(rng.next() * YEAR_MS);
    let target: DecisionInput['target'];
    if (action === 'file-upload' || action === 'file-download' || action === 'script-run') {
      target = { path: rng.pick(FILE_PATHS) };
    } else if (action === 'software-install') {
      target = { package: rng.pick(PACKAGES), version: '1.2.3' };
    }
    const s = rng.next();
    const state = s < 0.5 ? { inUse: false, mode: 'idle' } : s < 0.8 ? { inUse: true, mode: 'service' } : null;
    inputs.push({
      action,
      // Some vendors' clouds do not report the enterprise.
      remoteUser: rng.chance(0.05) ? { id: user.id, groups: user.groups } : user,
      target,
      device: {
        id: world.devices[d].deviceId,
        groups: groupSets[d],
        state,
        // Up to 120 s old: a quarter of the reported states are stale (over 90 s).
        stateReportedAt: state ? now - rng.int(120_000) : null,
      },
      now,
      stateMaxAgeMs: STATE_MAX_AGE_MS,
    });
  }
  return inputs;
}
