import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { STATE_MAX_AGE_MS } from '../devices/devices.service.js';
import { DeviceGrouper } from './engine/device-groups.js';
import { PolicyEngine } from './engine/policy-engine.js';
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
  expect: z.strictObject({ decision: z.enum(['allow', 'deny', 'pending']), rules: z.array(z.string()) }),
});
const fileSchema = z.strictObject({ cases: z.array(caseSchema).min(1) });

export interface PolicyTestResult {
  file: string;
  name: string;
  passed: boolean;
  expected: string;
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
    const parsed = fileSchema.safeParse(parse(readFileSync(join(testsDir, file), 'utf8')));
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.join('.')}: ${i.message}`));
      continue;
    }
    for (const c of parsed.data.cases) {
      const now = Date.parse(c.at);
      const groups = grouper.groupsOf({
        deviceId: c.device.id,
        model: c.device.model,
        site: c.device.site ?? null,
        serialNumber: c.device.serialNumber ?? null,
        agentVersion: c.device.agentVersion ?? null,
        assignedGroups: c.device.groups ?? [],
      });
      const decision = engine.decide({
        action: c.request.action,
        remoteUser: c.request.remoteUser,
        target: c.request.target,
        device: {
          id: c.device.id,
          groups,
          state: c.device.state ?? null,
          stateReportedAt:
            c.device.state && c.device.stateAgeSeconds !== undefined ? now - c.device.stateAgeSeconds * 1000 : null,
        },
        now,
        stateMaxAgeMs: STATE_MAX_AGE_MS,
      });
      const expected = `${c.expect.decision} [${[...c.expect.rules].sort().join(', ')}]`;
      const actual = `${decision.decision} [${decision.ruleIds.join(', ')}]`;
      results.push({ file, name: c.name, passed: expected === actual, expected, actual });
    }
  }
  return { results, problems };
}
