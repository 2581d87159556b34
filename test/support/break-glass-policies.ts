import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Rules for the break-glass tests: installs on CT scanners may be broken open
 * (`breakGlass: true`, grants up to 120 minutes); uploads to CT scanners may not.
 */
export const BREAK_GLASS_RULES = `rules:
  - id: ct-installs-break-glass
    effect: ask
    actions: [software-install]
    devices: [ct-scanners]
    approval: { approvers: [Biomed-Approvers, Radiology-Leads], required: 2, timeoutMinutes: 60, maxGrantMinutes: 120 }
    breakGlass: true
  - id: ct-uploads-ask
    effect: ask
    actions: [file-upload]
    devices: [ct-scanners]
    approval: { approvers: [Biomed-Approvers, Radiology-Leads], required: 1, timeoutMinutes: 60 }
`;

/** A policy folder with the example set's device groups and access, and BREAK_GLASS_RULES. */
export function breakGlassPolicyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-break-glass-'));
  for (const file of ['access.yaml', 'device-groups.yaml']) cpSync(join('policies', file), join(dir, file));
  writeFileSync(join(dir, 'defaults.yaml'), 'defaults:\n  effect: deny\n');
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'break-glass.yaml'), BREAK_GLASS_RULES);
  return dir;
}
