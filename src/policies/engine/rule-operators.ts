import { posix } from 'node:path';
import { buildMongoQueryMatcher, type MongoQuery } from '@casl/ability';
import { FieldCondition, type FieldParsingContext, type JsInterpreter } from '@ucast/mongo2js';
import { compileGlob, type GlobKind } from '../globs.js';
import { compileWhen, type CompiledWhen } from '../time-window.js';

/**
 * The conditions of policy rules as CASL understands them: a small, fixed set of
 * operators, compiled once per rule when CASL parses the conditions (globs to RegExps,
 * windows to minutes of the week in their zone), and never reading the clock (the
 * instant is the subject's `now`). No NestJS or TypeORM here: an agent SDK reuses this
 * module, with @casl/ability, to check the offline policy (agent-api.md).
 */

/** What a rule's conditions are matched against: one request, at one instant (flat: faster to read). */
export interface RequestSubject {
  remoteUserId: string;
  enterprise?: string;
  remoteUserGroups?: readonly string[];
  deviceGroups: ReadonlySet<string>;
  /** As normalizedPath() gives it. */
  path?: string;
  package?: string;
  version?: string;
  sha256?: string;
  ticket?: string;
  /** The instant decided at (ms since epoch). */
  now: number;
  /** The state the device reported, when fresh; null when unknown or stale. */
  deviceState: Record<string, unknown> | null;
}

/** The `when` of a rule as JSON (instants as ISO strings), so that packed rules travel. */
export interface WhenConditionJson {
  timezone?: string;
  windows?: { days: string[]; from: string; to: string }[];
  dates?: { from: string; to: string }[];
  validFrom?: string;
  validUntil?: string;
}

/** The operators a rule's conditions may use, and only these. */
export const RULE_OPERATORS = ['$anyGroup', '$glob', '$anyGlob', '$pathGlob', '$in', '$ticket', '$when', '$state'];

type Get = (object: unknown, field: string) => unknown;
type Interpreter<V> = JsInterpreter<FieldCondition<V>, unknown>;

/** A field operator whose value CASL hands to `compile` once, when it parses the rule. */
function fieldOperator<In, Out>(compile: (value: In) => Out) {
  return {
    type: 'field',
    parse(instruction: { name: string }, value: In, context: FieldParsingContext) {
      return new FieldCondition(instruction.name, context.field, compile(value));
    },
  };
}

const globs = (kind: GlobKind) => (patterns: string[]) => patterns.map((p) => compileGlob(p, kind));
const anyTest = (patterns: readonly RegExp[], value: unknown): boolean =>
  typeof value === 'string' && patterns.some((p) => p.test(value));

const instructions = {
  $anyGroup: fieldOperator((names: string[]) => names),
  $glob: fieldOperator(globs('name')),
  $anyGlob: fieldOperator(globs('name')),
  $pathGlob: fieldOperator(globs('path')),
  $ticket: fieldOperator((ticket: { required: boolean; pattern: string | null }) => ({
    required: ticket.required,
    pattern: ticket.pattern === null ? null : new RegExp(ticket.pattern, 'u'),
  })),
  $when: fieldOperator((when: WhenConditionJson): CompiledWhen => compileWhen(whenFromJson(when))),
  $state: fieldOperator((state: Record<string, unknown>) => Object.entries(state)),
};

const field = (node: FieldCondition<unknown>, object: unknown, context: { get: Get }) =>
  context.get(object, node.field);

const interpreters: Record<string, Interpreter<never>> = {
  /** The device is in one of the groups (a Set of the device's groups). */
  anyGroup: (node, object, context) => {
    const groups = field(node, object, context) as ReadonlySet<string> | undefined;
    return groups !== undefined && (node.value as string[]).some((g) => groups.has(g));
  },
  glob: (node, object, context) => anyTest(node.value as RegExp[], field(node, object, context)),
  /** One of a list of names (a remote user's groups) matches one of the globs. */
  anyGlob: (node, object, context) => {
    const names = field(node, object, context) as readonly string[] | undefined;
    return names !== undefined && names.some((name) => anyTest(node.value as RegExp[], name));
  },
  pathGlob: (node, object, context) => anyTest(node.value as RegExp[], field(node, object, context)),
  in: (node, object, context) => (node.value as unknown[]).includes(field(node, object, context)),
  /** A required ticket is given; a given ticket matches the rule's pattern. */
  ticket: (node, object, context) => {
    const ticket = field(node, object, context);
    const { required, pattern } = node.value as { required: boolean; pattern: RegExp | null };
    if (typeof ticket !== 'string' || ticket.length === 0) return !required;
    return pattern === null || pattern.test(ticket);
  },
  when: (node, object, context) => (node.value as CompiledWhen).timeMatches(field(node, object, context) as number),
  // INVARIANT: unknown or stale state (null) never satisfies a condition.
  state: (node, object, context) => {
    const state = field(node, object, context) as Record<string, unknown> | null;
    return state !== null && (node.value as [string, unknown][]).every(([key, value]) => state[key] === value);
  },
};

const matcher = buildMongoQueryMatcher(instructions as never, interpreters as never);

/**
 * CASL's conditions matcher for policy rules: refuses any operator outside RULE_OPERATORS
 * (packed rules come from outside the process on an agent), then compiles the rest.
 */
export function ruleConditionsMatcher(conditions: MongoQuery) {
  assertKnownOperators(conditions);
  return matcher(conditions);
}

function assertKnownOperators(conditions: MongoQuery): void {
  for (const [key, value] of Object.entries(conditions as Record<string, unknown>)) {
    if (key.startsWith('$')) throw new Error(`operator ${key} is not allowed at the top of a rule's conditions`);
    if (typeof value !== 'object' || value === null) throw new Error(`condition on ${key} has no operator`);
    for (const operator of Object.keys(value)) {
      if (!RULE_OPERATORS.includes(operator)) throw new Error(`operator ${operator} is not allowed (on ${key})`);
    }
  }
}

function whenFromJson(when: WhenConditionJson) {
  return {
    ...when,
    windows: when.windows as never,
    validFrom: when.validFrom === undefined ? undefined : new Date(when.validFrom),
    validUntil: when.validUntil === undefined ? undefined : new Date(when.validUntil),
  };
}

/**
 * Path globs judge the path the device will act on: "/var/log/../../etc/shadow" is
 * "/etc/shadow", and a path that climbs above the root matches nothing.
 */
export function normalizedPath(path: string | undefined): string | undefined {
  if (path === undefined || !/\/\.{1,2}(\/|$)|\/\/|\\/.test(path)) return path;
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  return normalized.startsWith('..') ? '\u0000outside-root' : normalized;
}
