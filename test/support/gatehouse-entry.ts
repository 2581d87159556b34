import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The folders whose TypeScript the server and the CLI are compiled from (tsconfig.build.json). */
const SOURCES = ['src', 'migrations'];

let built: boolean | undefined;

/**
 * Node's arguments to run Gatehouse's `src/main.ts` or `src/cli/main.ts` in a child process:
 * the compiled `dist/` file when the build is newer than every source file (as in CI, which
 * builds before the tests: a start then skips compiling some 500 files), else the TypeScript
 * itself through the swc hooks, so that a test never runs stale code.
 */
export function gatehouseEntry(source: 'src/main.ts' | 'src/cli/main.ts'): string[] {
  const compiled = join('dist', source.replace(/\.ts$/, '.js'));
  built ??= isFresh(compiled);
  return built ? [compiled] : ['--import', './test/support/ts-register.mjs', source];
}

function isFresh(compiled: string): boolean {
  if (!existsSync(compiled)) return false;
  const builtAt = statSync(compiled).mtimeMs;
  return SOURCES.every((dir) => newestIn(dir) <= builtAt);
}

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.tsx?$/.test(entry.name)) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
