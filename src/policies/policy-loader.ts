/**
 * Loads the policy files (../shared/docs/policy-files.md) into one validated PolicySet.
 * Pure: no Nest, no database. A set with any problem is not returned at all; every
 * problem found is reported, by file and line.
 *
 * Choices:
 * - Files: every *.yaml / *.yml under the folder, recursively, sorted by their path
 *   relative to the folder ('/' separated, compared by code unit). Left out: the
 *   top-level `tests/` folder (policy test cases) and hidden files and folders (names
 *   starting with '.', such as .git or .github).
 * - Merge: the four keys may be in any file. `deviceGroups`, `access` and `rules` are
 *   concatenated in file order; rule ids, device group names and access entries (group,
 *   compared without letter case, and role) must be unique across all files; `defaults`
 *   may be given in one file only.
 * - Approvals: every `ask` rule of the loaded set carries its complete approval
 *   settings: each field from the rule's own `approval`, else from `defaults.approval`,
 *   else required 1 and timeoutMinutes 60 (maxGrantMinutes stays absent: no repeats).
 * - Version: sha256 hex of a canonical JSON of the set's meaning: defaults, device
 *   groups sorted by name, access entries by group and role, rules by id, object keys
 *   sorted, sources left out. So reformatting, comments, key order, the order of entries
 *   and moving entries between files keep the version; any change of a value (including
 *   a description or the order of items within a list) gives a new one.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import type {
  AccessDefinition,
  ApprovalSettings,
  DeviceGroupDefinition,
  PolicyProblem,
  PolicyRule,
  PolicySet,
  WhenCondition,
} from './policy.types.js';
import {
  APPROVAL_DEFAULTS,
  didYouMean,
  instantProblem,
  knownKeysAt,
  localDateTimeProblem,
  policyFileSchema,
  timeProblem,
  type DefaultsApprovalInput,
  type PolicyFile,
  type RuleApprovalInput,
  type RuleInput,
} from './policy-schema.js';

export type LoadResult = { ok: true; set: PolicySet; files: string[] } | { ok: false; problems: PolicyProblem[] };

export interface PolicySourceText {
  /** The file's path relative to the policy folder (or another stable name). */
  name: string;
  text: string;
}

export interface PolicySetDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

type Path = (string | number)[];

// ---------------------------------------------------------------------------------
// Reading the folder
// ---------------------------------------------------------------------------------

/**
 * The policy files under `dir` as paths relative to it ('/' separated), in load order.
 * Throws when `dir` cannot be read.
 */
export function findPolicyFiles(dir: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>([realpathSync(dir)]);
  const walk = (abs: string, rel: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const childAbs = join(abs, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(childAbs).isDirectory());
      if (isDir) {
        if (rel === '' && entry.name === 'tests') continue;
        const real = realpathSync(childAbs);
        if (seen.has(real)) continue;
        seen.add(real);
        walk(childAbs, childRel);
      } else if (/\.ya?ml$/.test(entry.name)) {
        out.push(childRel);
      }
    }
  };
  walk(dir, '');
  return out.sort(compareCodeUnits);
}

/**
 * Reads and validates every policy file under `dir` (see findPolicyFiles), together with
 * `extra` sources (the console rules), which are validated by the same rules.
 */
export function loadPolicyDirectory(dir: string, extra: PolicySourceText[] = []): LoadResult {
  let names: string[];
  try {
    names = findPolicyFiles(dir);
  } catch (e) {
    return { ok: false, problems: [{ file: dir, line: 0, message: `cannot read the policy folder: ${errorText(e)}` }] };
  }
  const sources: PolicySourceText[] = [];
  const problems: PolicyProblem[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, name));
    } catch (e) {
      problems.push({ file: name, line: 0, message: `cannot read the file: ${errorText(e)}` });
      continue;
    }
    try {
      sources.push({ name, text: utf8.decode(bytes) });
    } catch {
      problems.push({ file: name, line: 0, message: 'the file is not valid UTF-8' });
    }
  }
  const result = loadPolicySources([...sources, ...extra]);
  if (problems.length === 0) return result;
  return { ok: false, problems: sortProblems([...problems, ...(result.ok ? [] : result.problems)]) };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return problems
    .map((p, k) => ({ p, k }))
    .sort((x, y) => compareCodeUnits(x.p.file, y.p.file) || x.p.line - y.p.line || x.k - y.k)
    .map(({ p }) => p);
}

// ---------------------------------------------------------------------------------
// One file
// ---------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function formatPath(path: readonly (string | number)[]): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v}'`;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Extra words for some values, by path with list indexes left out. */
const HINTS: Record<string, string> = {
  'defaults.effect': ' (allow cannot be the default: what no rule allows is denied or asked)',
};

class PolicyFileReader {
  readonly lines = new LineCounter();
  readonly doc: Document.Parsed;
  /** The plain value of the file, undefined when YAML errors make it unusable. */
  raw: Record<string, unknown> | undefined;
  data: PolicyFile | undefined;

  constructor(
    readonly name: string,
    text: string,
    private readonly problems: PolicyProblem[],
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of [...this.doc.errors, ...this.doc.warnings]) {
      const line = this.lines.linePos(e.pos[0]).line;
      const message =
        e.code === 'DUPLICATE_KEY'
          ? `duplicate key '${this.keyAt(e.pos[0]) ?? text.slice(e.pos[0], e.pos[1])}'`
          : `YAML syntax error: ${e.message}`;
      problems.push({ file: name, line, message });
    }
    if (this.doc.errors.length > 0 || this.doc.warnings.length > 0) return;
    let value: unknown;
    try {
      value = this.doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      problems.push({ file: name, line: this.aliasProblemLine(), message: `YAML error: ${errorText(e)}` });
      return;
    }
    if (value === null || value === undefined) value = {};
    if (!isRecord(value)) {
      this.add(
        [],
        `expected a mapping with the keys defaults, deviceGroups, access and rules; got ${describeValue(value)}`,
      );
      return;
    }
    this.raw = value;
    const parsed = policyFileSchema.safeParse(value);
    if (parsed.success) this.data = parsed.data;
    else for (const issue of parsed.error.issues) this.reportIssue(issue);
    this.checkWithinFile(value);
  }

  /** The key that starts at an offset of the text. */
  private keyAt(offset: number): string | undefined {
    let key: string | undefined;
    visit(this.doc, {
      Pair: (_, pair) => {
        if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
          key = String(pair.key.value);
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return key;
  }

  private aliasProblemLine(): number {
    let line = 1;
    visit(this.doc, {
      Alias: (_, node) => {
        if (node.resolve(this.doc) === undefined && node.range) {
          line = this.lines.linePos(node.range[0]).line;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return line;
  }

  /**
   * The line of a path: of the key when it ends with a key, of the item when it ends
   * with a list index; when the path does not exist all the way, of the deepest part
   * that does (for a missing key: the key or item that should hold it).
   */
  lineOf(path: readonly (string | number)[]): number {
    const linePos = (node: unknown): number | undefined => {
      const range = (node as { range?: [number, number, number] } | null)?.range;
      return range ? this.lines.linePos(range[0]).line : undefined;
    };
    let node: unknown = this.doc.contents;
    let line = linePos(node) ?? 1;
    // Past an alias (*name) the line stays the alias's: the place that uses the value.
    let viaAlias = false;
    for (const seg of path) {
      if (isAlias(node)) {
        node = node.resolve(this.doc);
        viaAlias = true;
      }
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        if (!viaAlias) line = linePos(pair.key) ?? line;
        next = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
        if (next === undefined) break;
        if (!viaAlias) line = linePos(next) ?? line;
      } else break;
      node = next;
    }
    return line;
  }

  /** Reports a problem at a path; `where` is the path named in the message (default: the same). */
  add(path: readonly (string | number)[], message: string, where: readonly (string | number)[] = path): void {
    const prefix = formatPath(where);
    this.problems.push({
      file: this.name,
      line: this.lineOf(path),
      message: prefix ? `${prefix}: ${message}` : message,
    });
  }

  valueAt(path: readonly (string | number)[]): unknown {
    let v: unknown = this.raw;
    for (const seg of path) {
      if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
      else if (isRecord(v) && typeof seg === 'string' && Object.hasOwn(v, seg)) v = v[seg];
      else return undefined;
    }
    return v;
  }

  private reportIssue(issue: z.core.$ZodIssue): void {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    const value = this.valueAt(path);
    const parentPath = path.slice(0, -1);
    const last = path[path.length - 1];
    const hint = HINTS[path.filter((s) => typeof s === 'string').join('.')] ?? '';
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(path);
        for (const key of issue.keys) {
          const suggestion = didYouMean(key, known);
          const rest = suggestion || (known.length > 0 ? ` (expected ${known.join(', ')})` : '');
          this.add([...path, key], `unknown key '${key}'${rest}`, path);
        }
        return;
      }
      case 'invalid_type': {
        const parent = this.valueAt(parentPath);
        if (typeof last === 'string' && isRecord(parent) && !Object.hasOwn(parent, last)) {
          this.add(path, `missing required key '${last}'`, parentPath);
        } else {
          this.add(path, `expected ${EXPECTED[issue.expected] ?? issue.expected}; got ${describeValue(value)}`);
        }
        return;
      }
      case 'invalid_value': {
        const values = issue.values.map((v) => String(v));
        const suggestion = typeof value === 'string' ? didYouMean(value, values) : '';
        this.add(path, `expected one of ${values.join(', ')}; got ${describeValue(value)}${suggestion}${hint}`);
        return;
      }
      case 'invalid_union':
        this.add(path, `expected text, a number or true/false; got ${describeValue(value)}`);
        return;
      case 'too_small': {
        const min = Number(issue.minimum);
        if (issue.origin === 'array' || issue.origin === 'string') {
          this.add(path, min <= 1 ? 'must not be empty' : `must have at least ${min} items`);
        } else {
          this.add(path, `must be at least ${min}; got ${describeValue(value)}`);
        }
        return;
      }
      case 'too_big': {
        const max = Number(issue.maximum);
        if (issue.origin === 'string') this.add(path, `must be at most ${max} characters long`);
        else if (issue.origin === 'array') this.add(path, `must have at most ${max} items`);
        else this.add(path, `must be at most ${max}; got ${describeValue(value)}`);
        return;
      }
      case 'invalid_key':
        this.add(path, `bad key ${quote(last)}`, parentPath);
        return;
      case 'custom':
      case 'invalid_element':
      case 'invalid_format':
      case 'not_multiple_of':
        this.add(path, issue.message);
    }
  }

  /** Checks that relate several values of one file (run even when other values are wrong). */
  private checkWithinFile(raw: Record<string, unknown>): void {
    const defaults = raw.defaults;
    if (isRecord(defaults) && defaults.effect === 'ask' && !hasApprovers(defaults.approval)) {
      this.add(['defaults', 'effect'], 'ask as the default needs defaults.approval with approvers');
    }
    forEachRecord(raw.deviceGroups, (group, i) => {
      if (group.match === undefined && group.devices === undefined) {
        this.add(['deviceGroups', i], 'a device group needs match or devices (it has no members)');
      }
      if (isRecord(group.match) && Object.keys(group.match).length === 0) {
        this.add(['deviceGroups', i, 'match'], 'must name at least one device attribute');
      }
    });
    forEachRecord(raw.rules, (rule, i) => {
      const at = ['rules', i];
      if (rule.approval !== undefined && (rule.effect === 'allow' || rule.effect === 'deny')) {
        this.add([...at, 'approval'], `approval is only for effect ask (this rule's effect is ${rule.effect})`);
      }
      const when = rule.when;
      if (!isRecord(when)) return;
      const w = [...at, 'when'];
      for (const key of ['windows', 'dates'] as const) {
        if (when[key] !== undefined && when.timezone === undefined) {
          this.add([...w, key], `${key} need a timezone (an IANA name such as Europe/Paris) in this when`);
        }
      }
      forEachRecord(when.windows, (window, j) => {
        if (isTime(window.from, false) && isTime(window.to, true) && window.from === window.to) {
          this.add(
            [...w, 'windows', j],
            `from and to are both ${window.from}: the window is empty (from 00:00 to 24:00 is the whole day)`,
          );
        }
      });
      forEachRecord(when.dates, (date, j) => {
        if (isLocalDateTime(date.from) && isLocalDateTime(date.to) && date.from >= date.to) {
          this.add([...w, 'dates', j], `from (${date.from}) must be before to (${date.to})`);
        }
      });
      const { validFrom, validUntil } = when;
      if (isInstant(validFrom) && isInstant(validUntil)) {
        if (Date.parse(validFrom) >= Date.parse(validUntil)) {
          this.add([...w, 'validUntil'], `validUntil (${validUntil}) must be after validFrom (${validFrom})`);
        }
      }
    });
  }
}

function forEachRecord(list: unknown, f: (item: Record<string, unknown>, index: number) => void): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, k) => {
    if (isRecord(item)) f(item, k);
  });
}

/** Whether an approval block names approvers (if wrongly, that is reported on its own). */
function hasApprovers(approval: unknown): boolean {
  return isRecord(approval) && approval.approvers !== undefined;
}

function isTime(v: unknown, endOfDay: boolean): v is string {
  return typeof v === 'string' && timeProblem(v, endOfDay) === undefined;
}

function isLocalDateTime(v: unknown): v is string {
  return typeof v === 'string' && localDateTimeProblem(v) === undefined;
}

function isInstant(v: unknown): v is string {
  return typeof v === 'string' && instantProblem(v) === undefined;
}

// ---------------------------------------------------------------------------------
// All files
// ---------------------------------------------------------------------------------

interface Place {
  file: string;
  line: number;
}

const at = (p: Place) => `${p.file}:${p.line}`;

/** Validates and merges policy files given as text (sorted by name first). */
export function loadPolicySources(sources: PolicySourceText[]): LoadResult {
  const problems: PolicyProblem[] = [];
  const sorted = [...sources].sort((a, b) => compareCodeUnits(a.name, b.name));
  const readers: PolicyFileReader[] = [];
  const names = new Set<string>();
  for (const source of sorted) {
    if (names.has(source.name)) {
      problems.push({ file: source.name, line: 0, message: 'the same file name is given twice' });
      continue;
    }
    names.add(source.name);
    readers.push(new PolicyFileReader(source.name, source.text, problems));
  }
  // When a file cannot be read as a whole, what it defines is unknown: references to
  // device groups and the approvers of ask rules are not checked (no follow-on errors).
  const complete = readers.every((r) => r.raw !== undefined);

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

  if (complete) {
    const known = [...groups.keys()];
    const checkRefs = (r: PolicyFileReader, path: Path, list: unknown) => {
      if (!Array.isArray(list)) return;
      list.forEach((name, k) => {
        if (typeof name === 'string' && name !== '*' && !groups.has(name)) {
          r.add([...path, k], `unknown device group '${name}'${didYouMean(name, known)}`);
        }
      });
    };
    for (const r of readers) {
      forEachRecord(r.raw?.rules, (rule, i) => {
        checkRefs(r, ['rules', i, 'devices'], rule.devices);
        if (rule.effect === 'ask' && !hasApprovers(rule.approval) && !defaultsHaveApprovers) {
          r.add(
            ['rules', i, 'effect'],
            'effect ask needs approvers: give approval.approvers in this rule or defaults.approval.approvers',
          );
        }
      });
      forEachRecord(r.raw?.access, (entry, i) => checkRefs(r, ['access', i, 'devices'], entry.devices));
    }
  }

  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, set: buildSet(readers), files: readers.map((r) => r.name) };
}

// ---------------------------------------------------------------------------------
// Building the set
// ---------------------------------------------------------------------------------

function resolveApproval(
  own: RuleApprovalInput,
  fallback: ApprovalSettings | DefaultsApprovalInput | undefined,
): ApprovalSettings {
  const approvers = own.approvers ?? fallback?.approvers;
  if (approvers === undefined) throw new Error('an ask rule without approvers passed validation');
  const settings: ApprovalSettings = {
    approvers: [...approvers],
    required: own.required ?? fallback?.required ?? APPROVAL_DEFAULTS.required,
    timeoutMinutes: own.timeoutMinutes ?? fallback?.timeoutMinutes ?? APPROVAL_DEFAULTS.timeoutMinutes,
  };
  const maxGrant = own.maxGrantMinutes ?? fallback?.maxGrantMinutes;
  if (maxGrant !== undefined) settings.maxGrantMinutes = maxGrant;
  return settings;
}

/** Copies an object without its undefined values. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function buildRule(input: RuleInput, fallback: ApprovalSettings | undefined, file: string, line: number): PolicyRule {
  let when: WhenCondition | undefined;
  if (input.when) {
    const w = input.when;
    when = defined({
      timezone: w.timezone,
      windows: w.windows?.map((x) => ({ days: [...x.days], from: x.from, to: x.to })),
      dates: w.dates?.map((x) => ({ from: x.from, to: x.to })),
      validFrom: w.validFrom === undefined ? undefined : new Date(w.validFrom),
      validUntil: w.validUntil === undefined ? undefined : new Date(w.validUntil),
      deviceState: w.deviceState === undefined ? undefined : { ...w.deviceState },
    });
  }
  return defined({
    id: input.id,
    description: input.description,
    effect: input.effect,
    actions: [...input.actions],
    devices: [...input.devices],
    remoteUsers: input.remoteUsers && defined({ ...input.remoteUsers }),
    target: input.target && defined({ ...input.target }),
    when,
    approval: input.effect === 'ask' ? resolveApproval(input.approval ?? {}, fallback) : undefined,
    breakGlass: input.breakGlass,
    ticket: input.ticket && defined({ ...input.ticket }),
    attended: input.attended,
    offline: input.offline,
    source: { kind: 'file' as const, file, line },
  });
}

/**
 * The same group with the same role in several entries (one file or several: hospitals
 * split their files by department) is one entry whose device scope is the union; an entry
 * without devices (all devices) makes the union all devices. It keeps the first source.
 */
function addAccess(access: AccessDefinition[], entry: AccessDefinition): void {
  const same = access.find((a) => a.role === entry.role && a.group.toLowerCase() === entry.group.toLowerCase());
  if (!same) {
    access.push(entry);
    return;
  }
  if (same.devices === undefined || entry.devices === undefined) delete same.devices;
  else same.devices = [...new Set([...same.devices, ...entry.devices])].sort(); // sorted: the version does not depend on file order
}

function buildSet(readers: PolicyFileReader[]): PolicySet {
  const defaultsInput = readers.find((r) => r.data?.defaults)?.data?.defaults;
  const defaults: PolicySet['defaults'] = { effect: defaultsInput?.effect ?? 'deny' };
  if (defaultsInput?.approval) defaults.approval = resolveApproval(defaultsInput.approval, undefined);
  const deviceGroups: DeviceGroupDefinition[] = [];
  const access: AccessDefinition[] = [];
  const rules: PolicyRule[] = [];
  for (const r of readers) {
    const data = r.data ?? {};
    data.deviceGroups?.forEach((g, i) => {
      const source = { kind: 'file' as const, file: r.name, line: r.lineOf(['deviceGroups', i]) };
      const match = g.match && (defined({ ...g.match }) as Record<string, string[]>);
      const reports = g.reports && { recipients: [...g.reports.recipients], digest: [...g.reports.digest] };
      deviceGroups.push(defined({ name: g.name, match, devices: g.devices && [...g.devices], reports, source }));
    });
    data.access?.forEach((a, i) => {
      const source = { kind: 'file' as const, file: r.name, line: r.lineOf(['access', i]) };
      addAccess(access, defined({ group: a.group, role: a.role, devices: a.devices && [...a.devices], source }));
    });
    data.rules?.forEach((rule, i) => rules.push(buildRule(rule, defaults.approval, r.name, r.lineOf(['rules', i]))));
  }
  const content = { defaults, deviceGroups, access, rules };
  return { version: policySetVersion(content), ...content };
}

// ---------------------------------------------------------------------------------
// Version and diff
// ---------------------------------------------------------------------------------

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
