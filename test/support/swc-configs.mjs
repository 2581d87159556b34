// How the TypeScript sources are compiled with swc, shared by Jest (jest.config.js) and by the
// child processes the tests run from the sources (ts-hooks.mjs), so that both compile alike.
import { readFileSync } from 'node:fs';

export const swcConfig = JSON.parse(readFileSync(new URL('../../.swcrc', import.meta.url), 'utf8'));
// The console's pages are TSX compiled to strings by @kitajs/html (jsxImportSource, as in tsconfig).
export const swcTsxConfig = {
  ...swcConfig,
  jsc: {
    ...swcConfig.jsc,
    parser: { ...swcConfig.jsc.parser, tsx: true },
    transform: { ...swcConfig.jsc.transform, react: { runtime: 'automatic', importSource: '@kitajs/html' } },
  },
};
