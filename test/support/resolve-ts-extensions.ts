import Module from 'node:module';

// Jest loads globalSetup/globalTeardown through its CommonJS require hook, where the
// moduleNameMapper does not apply. Our sources import './x.js' (NodeNext style) for
// files that are './x.ts' here: map those, as the mapper does for test files.
const loader = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const original = loader._resolveFilename;
loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  try {
    return original.call(this, request, ...rest);
  } catch (error) {
    if (request.startsWith('.') && request.endsWith('.js'))
      return original.call(this, `${request.slice(0, -3)}.ts`, ...rest);
    throw error;
  }
};
