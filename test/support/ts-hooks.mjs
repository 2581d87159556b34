// Node module hooks that run the TypeScript sources directly in a child process (as Jest's
// @swc/jest does in the tests): `node --import ./test/support/ts-register.mjs src/cli/main.ts`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';

const swcConfig = JSON.parse(readFileSync(new URL('../../.swcrc', import.meta.url), 'utf8'));

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    // The sources import './x.js' (NodeNext style) for './x.ts'.
    if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(`${specifier.slice(0, -3)}.ts`, context);
    throw error;
  }
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const filename = fileURLToPath(url);
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...swcConfig, swcrc: false, filename });
  return { format: 'module', source: code, shortCircuit: true };
}
