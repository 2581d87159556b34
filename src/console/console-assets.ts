import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const require = createRequire(import.meta.url);

/** Our own files: beside this module in src/, or (built) the src/console/assets folder the image keeps. */
function ownAssetsDir(): string {
  for (const relative of ['./assets/', '../../../src/console/assets/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error('src/console/assets not found: the console cannot serve its style sheet and scripts');
}

/**
 * Every file the console's pages load, read once at start. Everything is local (the
 * appliance runs offline): htmx and its SSE extension from node_modules, the rest from src.
 * This list is the whole asset budget (a test sums it: under 300 KB).
 */
export function loadConsoleAssets(): Map<string, ConsoleAsset> {
  const own = ownAssetsDir();
  const files: Record<string, string> = {
    'htmx.min.js': require.resolve('htmx.org/dist/htmx.min.js'),
    'sse.min.js': require.resolve('htmx-ext-sse/dist/sse.min.js'),
    'console.css': `${own}console.css`,
    'console.js': `${own}console.js`,
    'copy.js': `${own}copy.js`,
  };
  const assets = new Map<string, ConsoleAsset>();
  for (const [name, path] of Object.entries(files)) {
    const body = readFileSync(path);
    const contentType = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}
