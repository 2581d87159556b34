import type { AppConfig } from '../../config/config.schema.js';
import { loadPolicyDirectory } from '../../policies/policy-loader.js';
import { failed, ok, type CheckResult } from './check.js';

const TITLE = 'Policy set';
const SHOWN = 3;

/** The policy files load as the server would load them at start (src/policies/policy-loader.ts). */
export function checkPolicies(config: AppConfig): CheckResult {
  const loaded = loadPolicyDirectory(config.POLICIES_DIR);
  if (!loaded.ok) {
    const shown = loaded.problems
      .slice(0, SHOWN)
      .map((p) => `${p.file}:${p.line}: ${p.message}`)
      .join('; ');
    const more = loaded.problems.length > SHOWN ? ` (and ${loaded.problems.length - SHOWN} more)` : '';
    return failed(
      TITLE,
      `the policy files in POLICIES_DIR (${config.POLICIES_DIR}) do not load: ${shown}${more}`,
      'correct those files (`npm run gatehouse -- policy:test` lists every problem), or point POLICIES_DIR at the right folder',
    );
  }
  return ok(
    TITLE,
    `${loaded.files.length} file(s) in POLICIES_DIR (${config.POLICIES_DIR}) load without error, version ${loaded.set.version.slice(0, 12)}`,
  );
}
