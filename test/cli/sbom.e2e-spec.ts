import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

interface Component {
  name: string;
  version: string;
  licenses?: { license?: { id?: string; name?: string }; expression?: string }[];
}
interface LockEntry {
  name?: string;
  version: string;
  dev?: boolean;
}

/**
 * What `npm ci --omit=dev` installs, read from package-lock.json on its own (not from npm sbom):
 * every entry not marked dev (devOptional and optional ones are installed too), as name@version.
 */
function shippedPackages(): Set<string> {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
  const shipped = new Set<string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    shipped.add(`${name}@${entry.version}`);
  }
  return shipped;
}

/** `npm run sbom` as a release would run it: a CycloneDX SBOM of what ships, every package with its licence. */
describe('npm run sbom', () => {
  let dir: string;
  let run: { code: number; stdout: string; stderr: string };
  let bom: { bomFormat: string; specVersion: string; metadata: { component: Component }; components: Component[] };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-sbom-'));
    const file = join(dir, 'sbom.cdx.json');
    run = await promisify(execFile)('npm', ['run', '--silent', 'sbom', '--', file], { timeout: 60_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    bom = JSON.parse(readFileSync(file, 'utf8')) as typeof bom;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every package that ships, and nothing that does not', () => {
    expect(bom.bomFormat).toBe('CycloneDX');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string };
    expect(bom.metadata.component).toMatchObject({ name: pkg.name, version: pkg.version });
    const listed = new Set(bom.components.map((c) => `${c.name}@${c.version}`));
    const shipped = shippedPackages();
    expect([...shipped].filter((p) => !listed.has(p))).toEqual([]);
    expect([...listed].filter((p) => !shipped.has(p))).toEqual([]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });

  it('names a licence for every package that ships', () => {
    const hasLicence = (c: Component) =>
      (c.licenses ?? []).some((l) => Boolean(l.expression || l.license?.id || l.license?.name));
    const without = bom.components.filter((c) => !hasLicence(c)).map((c) => `${c.name}@${c.version}`);
    expect(without).toEqual([]);
  });
});
