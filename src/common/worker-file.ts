import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const compiled = new Map<string, string>();

/**
 * The file a worker thread runs: the compiled module next to `importMetaUrl`'s (dist/). Run
 * from the TypeScript sources (the tests, under @swc/jest, which a worker thread does not
 * inherit), there is none: the worker and the modules it imports by relative path are then
 * compiled with @swc/core (a dev dependency) into a temporary folder, once per process.
 */
export function workerFile(importMetaUrl: string, name: string): string {
  const here = dirname(fileURLToPath(importMetaUrl));
  const js = join(here, `${name}.js`);
  if (existsSync(js)) return js;
  const entry = join(here, `${name}.ts`);
  let file = compiled.get(entry);
  if (!file) {
    file = compileFromSources(entry);
    compiled.set(entry, file);
  }
  return file;
}

/** Statements that import or re-export a module by relative path (not `import type`: swc drops those). */
const RELATIVE_IMPORT = /^(?:import(?! type )|export)\b[^;]*?['"](\.{1,2}\/[^'"]+)\.js['"]/gm;

function compileFromSources(entry: string): string {
  const swc = createRequire(import.meta.url)('@swc/core') as {
    transformSync(code: string, opts: object): { code: string };
  };
  const out = mkdtempSync(join(tmpdir(), 'gatehouse-worker-'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const { code } = swc.transformSync(source, {
      filename: file,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    });
    // The same paths below `out` as on disk, so that relative imports keep working.
    const target = join(out, file).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
    for (const [, spec] of source.matchAll(RELATIVE_IMPORT)) visit(resolve(dirname(file), `${spec}.ts`));
  };
  visit(entry);
  return join(out, entry).replace(/\.ts$/, '.js');
}
