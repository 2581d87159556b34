// Node module hooks that run the TypeScript sources directly in a child process (as Jest's
// @swc/jest does in the tests): `node --import ./test/support/ts-register.mjs src/cli/main.ts`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';
import { swcConfig, swcTsxConfig } from './swc-configs.mjs';

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    // The sources import './x.js' (NodeNext style) for './x.ts' or './x.tsx'.
    if (!specifier.startsWith('.') || !specifier.endsWith('.js')) throw error;
    const base = specifier.slice(0, -3);
    try {
      return await next(`${base}.ts`, context);
    } catch {
      return next(`${base}.tsx`, context);
    }
  }
}

export async function load(url, context, next) {
  const tsx = url.endsWith('.tsx');
  if (!tsx && !url.endsWith('.ts')) return next(url, context);
  const filename = fileURLToPath(url);
  const config = tsx ? swcTsxConfig : swcConfig;
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...config, swcrc: false, filename });
  return { format: 'module', source: code, shortCircuit: true };
}
