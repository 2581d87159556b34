/**
 * Checks that relate several values of one file. They run on the plain YAML value, even
 * when the schema found other values wrong, so that one run reports every problem.
 */
import { instantProblem, localDateTimeProblem, timeProblem } from '../policy-schema.js';
import type { PolicyFileReader } from './file-reader.js';
import { forEachRecord, hasApprovers, isRecord } from './values.js';

function isTime(v: unknown, endOfDay: boolean): v is string {
  return typeof v === 'string' && timeProblem(v, endOfDay) === undefined;
}

function isLocalDateTime(v: unknown): v is string {
  return typeof v === 'string' && localDateTimeProblem(v) === undefined;
}

function isInstant(v: unknown): v is string {
  return typeof v === 'string' && instantProblem(v) === undefined;
}

export function checkWithinFile(reader: PolicyFileReader, raw: Record<string, unknown>): void {
  const defaults = raw.defaults;
  if (isRecord(defaults) && defaults.effect === 'ask' && !hasApprovers(defaults.approval)) {
    reader.add(['defaults', 'effect'], 'ask as the default needs defaults.approval with approvers');
  }
  forEachRecord(raw.deviceGroups, (group, i) => {
    if (group.match === undefined && group.devices === undefined) {
      reader.add(['deviceGroups', i], 'a device group needs match or devices (it has no members)');
    }
    if (isRecord(group.match) && Object.keys(group.match).length === 0) {
      reader.add(['deviceGroups', i, 'match'], 'must name at least one device attribute');
    }
  });
  forEachRecord(raw.rules, (rule, i) => checkRule(reader, rule, ['rules', i]));
}

function checkRule(reader: PolicyFileReader, rule: Record<string, unknown>, at: (string | number)[]): void {
  if (rule.approval !== undefined && (rule.effect === 'allow' || rule.effect === 'deny')) {
    reader.add([...at, 'approval'], `approval is only for effect ask (this rule's effect is ${rule.effect})`);
  }
  const when = rule.when;
  if (!isRecord(when)) return;
  const w = [...at, 'when'];
  for (const key of ['windows', 'dates'] as const) {
    if (when[key] !== undefined && when.timezone === undefined) {
      reader.add([...w, key], `${key} need a timezone (an IANA name such as Europe/Paris) in this when`);
    }
  }
  forEachRecord(when.windows, (window, j) => {
    if (isTime(window.from, false) && isTime(window.to, true) && window.from === window.to) {
      reader.add(
        [...w, 'windows', j],
        `from and to are both ${window.from}: the window is empty (from 00:00 to 24:00 is the whole day)`,
      );
    }
  });
  forEachRecord(when.dates, (date, j) => {
    if (isLocalDateTime(date.from) && isLocalDateTime(date.to) && date.from >= date.to) {
      reader.add([...w, 'dates', j], `from (${date.from}) must be before to (${date.to})`);
    }
  });
  const { validFrom, validUntil } = when;
  if (isInstant(validFrom) && isInstant(validUntil)) {
    if (Date.parse(validFrom) >= Date.parse(validUntil)) {
      reader.add([...w, 'validUntil'], `validUntil (${validUntil}) must be after validFrom (${validFrom})`);
    }
  }
}
