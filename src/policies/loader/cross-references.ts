/**
 * Checks across all files: device group names, rule ids and `defaults` are unique; rules
 * and access entries name device groups that exist; every `ask` rule has approvers (its
 * own or the defaults'). Problems go on the reader of the file where they are.
 */
import { didYouMean } from '../policy-schema.js';
import type { PolicyFileReader, ValuePath } from './file-reader.js';
import { forEachRecord, hasApprovers, isRecord } from './values.js';

interface Place {
  file: string;
  line: number;
}

const at = (p: Place) => `${p.file}:${p.line}`;

interface Definitions {
  groups: Map<string, Place>;
  defaultsHaveApprovers: boolean;
}

export function checkCrossReferences(readers: PolicyFileReader[]): void {
  const definitions = collectDefinitions(readers);
  // When a file cannot be read as a whole, what it defines is unknown: references to
  // device groups and the approvers of ask rules are not checked (no follow-on errors).
  if (readers.every((r) => r.raw !== undefined)) checkReferences(readers, definitions);
}

/** Where each device group, rule id and the defaults are defined; reports the second definition of each. */
function collectDefinitions(readers: PolicyFileReader[]): Definitions {
  let defaultsAt: Place | undefined;
  let defaultsHaveApprovers = false;
  const groups = new Map<string, Place>();
  const rules = new Map<string, Place>();
  for (const r of readers) {
    const raw = r.raw;
    if (raw === undefined) continue;
    if (raw.defaults !== undefined) {
      const here = { file: r.name, line: r.lineOf(['defaults']) };
      if (defaultsAt) r.add(['defaults'], `defaults are also given at ${at(defaultsAt)}: give them in one file only`);
      else defaultsAt = here;
      if (isRecord(raw.defaults) && hasApprovers(raw.defaults.approval)) defaultsHaveApprovers = true;
    }
    forEachRecord(raw.deviceGroups, (group, i) => {
      if (typeof group.name !== 'string') return;
      const path = ['deviceGroups', i, 'name'];
      const first = groups.get(group.name);
      if (first) r.add(path, `duplicate device group '${group.name}': also defined at ${at(first)}`);
      else groups.set(group.name, { file: r.name, line: r.lineOf(path) });
    });
    forEachRecord(raw.rules, (rule, i) => {
      if (typeof rule.id !== 'string') return;
      const path = ['rules', i, 'id'];
      const first = rules.get(rule.id);
      if (first) r.add(path, `duplicate rule id '${rule.id}': also used at ${at(first)}`);
      else rules.set(rule.id, { file: r.name, line: r.lineOf(path) });
    });
  }
  return { groups, defaultsHaveApprovers };
}

function checkReferences(readers: PolicyFileReader[], { groups, defaultsHaveApprovers }: Definitions): void {
  const known = [...groups.keys()];
  const checkGroupNames = (r: PolicyFileReader, path: ValuePath, list: unknown) => {
    if (!Array.isArray(list)) return;
    list.forEach((name, k) => {
      if (typeof name === 'string' && name !== '*' && !groups.has(name)) {
        r.add([...path, k], `unknown device group '${name}'${didYouMean(name, known)}`);
      }
    });
  };
  for (const r of readers) {
    forEachRecord(r.raw?.rules, (rule, i) => {
      checkGroupNames(r, ['rules', i, 'devices'], rule.devices);
      if (rule.effect === 'ask' && !hasApprovers(rule.approval) && !defaultsHaveApprovers) {
        r.add(
          ['rules', i, 'effect'],
          'effect ask needs approvers: give approval.approvers in this rule or defaults.approval.approvers',
        );
      }
    });
    forEachRecord(r.raw?.access, (entry, i) => checkGroupNames(r, ['access', i, 'devices'], entry.devices));
  }
}
