import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { BUILTIN_ADMIN_GROUP, ROLES } from '../../src/auth/roles.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { MAX_BODY_BYTES } from '../../src/common/json-body.js';
import { configSchema, loadConfig } from '../../src/config/config.schema.js';
import { MIN_PASSWORD_LENGTH } from '../../src/users/password-rules.js';

const DISCLOSURE = 'docs/security-disclosure.md';
const DOCS = [DISCLOSURE, 'docs/upgrades.md'];
const read = (file: string) => readFileSync(file, 'utf8');
const matches = (text: string, pattern: RegExp) => [...text.matchAll(pattern)];

/** What the security disclosure and the upgrade guide say exists, checked against the code. */
describe('docs/security-disclosure.md and docs/upgrades.md, kept true by the code', () => {
  it('name only settings that exist (`UPPER_CASE` is a configuration variable), with their real defaults', () => {
    const doc = read(DISCLOSURE);
    const known = Object.keys(configSchema.in.shape);
    const named = [...new Set(matches(doc, /`([A-Z][A-Z0-9_]{2,})`/g).map((m) => m[1]))];
    expect(named.length).toBeGreaterThan(30);
    expect(named.filter((n) => !known.includes(n))).toEqual([]);

    const defaults = loadConfig({}) as unknown as Record<string, unknown>;
    const claimed = matches(doc, /`([A-Z][A-Z0-9_]+)` \(default `([^`]+)`/g).map((m) => [m[1], m[2]]);
    expect(claimed.length).toBeGreaterThan(5);
    expect(claimed.filter(([name, value]) => String(defaults[name]) !== value)).toEqual([]);
  });

  it('name only commands, npm scripts and files that exist', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: object }).scripts);
    for (const file of DOCS) {
      const doc = read(file);
      const commands = matches(doc, /npm run gatehouse -- ([a-z][a-z:-]*)/g).map((m) => m[1]);
      expect(commands.length).toBeGreaterThan(0);
      const missing = commands.filter((c) => c !== 'help' && !COMMANDS[c]);
      expect({ file, missing }).toEqual({ file, missing: [] });

      const npmScripts = matches(doc, /npm run ([a-z][a-z:]*)/g).map((m) => m[1]);
      expect({ file, missing: npmScripts.filter((s) => !scripts.includes(s)) }).toEqual({ file, missing: [] });

      const paths = [
        ...matches(doc, /`((?:src|test|ops|migrations)\/[^`\s]+)`/g).map((m) => m[1]),
        ...matches(doc, /\]\(([^)#\s]+\.md)\)/g).map((m) => join(dirname(file), m[1])),
      ];
      const absent = paths.filter((p) => !existsSync(p));
      expect({ file, absent }).toEqual({ file, absent: [] });
    }
  });

  it("states the code's own limits and names", () => {
    const doc = read(DISCLOSURE).replace(/\s+/g, ' ');
    const claims = [
      `bodies over ${MAX_BODY_BYTES / 1024} KiB refused`,
      `Passwords of at least ${MIN_PASSWORD_LENGTH} characters`,
      `: ${ROLES.join(', ')} (\`src/auth/roles.ts\`)`,
      `local group \`${BUILTIN_ADMIN_GROUP}\``,
    ];
    expect(claims.filter((c) => !doc.includes(c))).toEqual([]);
  });
});
