/**
 * The version of a policy set and the diff between two sets.
 *
 * Version: sha256 hex of a canonical JSON of the set's meaning: defaults, device groups
 * sorted by name, access entries by group and role, rules by id, object keys sorted,
 * sources left out. So reformatting, comments, key order, the order of entries and moving
 * entries between files keep the version; any change of a value (including a description
 * or the order of items within a list) gives a new one.
 */
import { createHash } from 'node:crypto';
import type { AccessDefinition, PolicySet } from '../policy.types.js';
import { compareCodeUnits, isRecord } from './values.js';

export interface PolicySetDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** JSON with object keys sorted, undefined left out, dates as ISO strings. */
function canonicalJson(v: unknown): string {
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort(compareCodeUnits);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function withoutSource<T extends { source: unknown }>(entry: T): Omit<T, 'source'> {
  const { source: _source, ...rest } = entry;
  return rest;
}

function accessKey(a: AccessDefinition): string {
  return `${a.group}/${a.role}`;
}

/**
 * The version of a set: sha256 hex of the canonical JSON of its meaning (sources left
 * out, entries sorted by rule id, group name, access group and role).
 */
export function policySetVersion(set: Omit<PolicySet, 'version'>): string {
  const byKey =
    <T>(key: (x: T) => string) =>
    (a: T, b: T) =>
      compareCodeUnits(key(a), key(b));
  const canonical = canonicalJson({
    format: 'gatehouse-policy-set/1',
    defaults: set.defaults,
    deviceGroups: set.deviceGroups.map(withoutSource).sort(byKey((g) => g.name)),
    access: set.access.map(withoutSource).sort(byKey((a) => `${a.group}\u0000${a.role}`)),
    rules: set.rules.map(withoutSource).sort(byKey((r) => r.id)),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Each entry of a set by its diff key, as canonical JSON without its source. */
function diffEntries(set: PolicySet): Map<string, string> {
  const m = new Map<string, string>();
  m.set('defaults:effect', canonicalJson(set.defaults.effect));
  if (set.defaults.approval) m.set('defaults:approval', canonicalJson(set.defaults.approval));
  for (const g of set.deviceGroups) m.set(`group:${g.name}`, canonicalJson(withoutSource(g)));
  for (const a of set.access) m.set(`access:${accessKey(a)}`, canonicalJson(withoutSource(a)));
  for (const r of set.rules) m.set(r.id, canonicalJson(withoutSource(r)));
  return m;
}

/**
 * What changed from one set to the next, for the audit record of a policy change.
 * Keys: rule ids as they are; `group:<name>` for device groups;
 * `access:<group>/<role>` for access entries; `defaults:effect` and `defaults:approval`.
 * (Rule ids cannot contain ':', so the keys never clash.) Moving an entry to another
 * file or line is not a change. Each list is sorted.
 */
export function diffPolicySets(old: PolicySet | null, next: PolicySet): PolicySetDiff {
  const before = old ? diffEntries(old) : new Map<string, string>();
  const after = diffEntries(next);
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [key, value] of after) {
    const was = before.get(key);
    if (was === undefined) added.push(key);
    else if (was !== value) changed.push(key);
  }
  for (const key of before.keys()) if (!after.has(key)) removed.push(key);
  return {
    added: added.sort(compareCodeUnits),
    removed: removed.sort(compareCodeUnits),
    changed: changed.sort(compareCodeUnits),
  };
}
