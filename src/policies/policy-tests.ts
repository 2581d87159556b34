import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { STATE_MAX_AGE_MS } from '../devices/devices.service.js';
import { statedItsmSchema, statedVerdicts } from '../itsm/stated-verdicts.js';
import type { DecisionInput } from './engine/decision.types.js';
import { DeviceGrouper } from './engine/device-groups.js';
import { PolicyEngine } from './engine/policy-engine.js';
import { formatPath, lineOfPath, type ValuePath } from './loader/file-reader.js';
import type { PolicySet } from './policy.types.js';

const caseSchema = z.strictObject({
  name: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  device: z.strictObject({
    id: z.string().min(1),
    model: z.string().min(1),
    site: z.string().optional(),
    serialNumber: z.string().optional(),
    agentVersion: z.string().optional(),
    groups: z.array(z.string()).optional(),
    state: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    stateAgeSeconds: z.number().min(0).optional(),
  }),
  request: z.strictObject({
    action: z.string().min(1),
    remoteUser: z.strictObject({
      id: z.string(),
      enterprise: z.string().optional(),
      groups: z.array(z.string()).optional(),
    }),
    target: z
      .strictObject({
        path: z.string().optional(),
        package: z.string().optional(),
        version: z.string().optional(),
        sha256: z.string().optional(),
      })
      .optional(),
    context: z.record(z.string(), z.string()).optional(),
  }),
  /** What the ITSM answers on the request's ticket, for rules with a ticket `check` (never asked here). */
  itsm: statedItsmSchema.optional(),
  expect: z.strictObject({ decision: z.enum(['allow', 'deny', 'pending']), rules: z.array(z.string()) }),
});
type PolicyTestCase = z.infer<typeof caseSchema>;
const fileSchema = z.strictObject({ cases: z.array(caseSchema).min(1) });

export interface PolicyTestResult {
  file: string;
  name: string;
  passed: boolean;
  expected: string;
  /** The decision, or why the case could not be decided (a ticket check without a stated answer). */
  actual: string;
}

/** Policy cases (request and time -> expected decision and rule ids), as `opa test` runs its tests. */
export function runPolicyTests(set: PolicySet, testsDir: string): { results: PolicyTestResult[]; problems: string[] } {
  const engine = new PolicyEngine(set);
  const grouper = new DeviceGrouper(set.deviceGroups);
  const results: PolicyTestResult[] = [];
  const problems: string[] = [];
  let files: string[];
  try {
    files = readdirSync(testsDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch (error) {
    return { results, problems: [`${testsDir}: ${(error as Error).message}`] };
  }
  for (const file of files) {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(join(testsDir, file), 'utf8'), { lineCounter: lines, prettyErrors: false });
    const at = (path: ValuePath, message: string) =>
      `${file}:${lineOfPath(doc, lines, path)}: ${formatPath(path) ? `${formatPath(path)}: ` : ''}${message}`;
    if (doc.errors.length > 0) {
      problems.push(
        ...doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: YAML syntax error: ${e.message}`),
      );
      continue;
    }
    let value: unknown;
    try {
      // Bounded, as for policy files: nested aliases must not exhaust memory.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push(`${file}:1: YAML error: ${(error as Error).message}`);
      continue;
    }
    const parsed = fileSchema.safeParse(value);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => at(i.path as ValuePath, i.message)));
      continue;
    }
    parsed.data.cases.forEach((c, index) => {
      const ticket = c.request.context?.ticket;
      for (const named of Object.keys(c.itsm ?? {}).filter((t) => t !== ticket)) {
        problems.push(
          at(
            ['cases', index, 'itsm', named],
            `the request's ticket (request.context.ticket) is ${ticket ? `'${ticket}'` : 'not given'}, not '${named}'`,
          ),
        );
      }
      results.push({ file, name: c.name, ...runCase(engine, grouper, c) });
    });
  }
  return { results, problems };
}

function runCase(engine: PolicyEngine, grouper: DeviceGrouper, c: PolicyTestCase) {
  const now = Date.parse(c.at);
  const groups = grouper.groupsOf({
    deviceId: c.device.id,
    model: c.device.model,
    site: c.device.site ?? null,
    serialNumber: c.device.serialNumber ?? null,
    agentVersion: c.device.agentVersion ?? null,
    assignedGroups: c.device.groups ?? [],
  });
  const input: DecisionInput = {
    action: c.request.action,
    remoteUser: c.request.remoteUser,
    target: c.request.target,
    context: c.request.context,
    device: {
      id: c.device.id,
      groups,
      state: c.device.state ?? null,
      stateReportedAt:
        c.device.state && c.device.stateAgeSeconds !== undefined ? now - c.device.stateAgeSeconds * 1000 : null,
    },
    now,
    stateMaxAgeMs: STATE_MAX_AGE_MS,
  };
  const expected = `${c.expect.decision} [${[...c.expect.rules].sort().join(', ')}]`;
  // Rules that check the ticket with the ITSM decide on the case's stated answer, never on none.
  const checked = engine.ticketChecksFor(input);
  const { verdicts, missing } = statedVerdicts(checked, c.request.context?.ticket, c.itsm);
  if (missing !== undefined) {
    const ids = checked.map((r) => r.id).join(', ');
    const actual =
      `no ITSM answer for ticket ${missing}, which ${checked.length > 1 ? 'rules' : 'rule'} ${ids} ` +
      `${checked.length > 1 ? 'check' : 'checks'}: state it in the case, e.g. itsm: { ${missing}: confirmed } ` +
      '(or refused, unavailable, { refused: "why" })';
    return { passed: false, expected, actual };
  }
  const decision = engine.decide({ ...input, ticketVerdicts: verdicts });
  const notes = decision.ticketNotes ? ` (ticket: ${decision.ticketNotes.join('; ')})` : '';
  const actual = `${decision.decision} [${decision.ruleIds.join(', ')}]`;
  return { passed: expected === actual, expected, actual: actual + notes };
}
