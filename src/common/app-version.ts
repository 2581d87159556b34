import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Gatehouse's own version: package.json's, read once. The file is two folders up from this
 * module in src/ (tests, ts-register) and three from dist/src/common (built; the image keeps
 * package.json beside dist/, as its "type": "module" is needed at run time anyway).
 */
function readAppVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'gatehouse' && pkg.version) return pkg.version;
  }
  throw new Error("Gatehouse's package.json was not found beside src/ or dist/: it says which version runs");
}

export const APP_VERSION = readAppVersion();
