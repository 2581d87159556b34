// Jest runs in native ESM mode because NestJS 12 ships as ES modules only.
// @swc/jest compiles TypeScript with decorator metadata (needed by Nest's DI).
import { swcConfig, swcTsxConfig } from './test/support/swc-configs.mjs';

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'json'],
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swcConfig, swcrc: false }],
    '^.+\\.tsx$': ['@swc/jest', { ...swcTsxConfig, swcrc: false }],
    // ESM-only packages that CommonJS dependencies require(): Node 20.19 can, Jest's
    // module loader cannot, so they are compiled to CommonJS for the tests.
    '/node_modules/content-disposition/.+\\.js$': ['@swc/jest', { swcrc: false, jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/migrations/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // 60 s: on a busy 2-core machine a real server, database and browser per file can take a while.
  testTimeout: 60000,
  // 3 on 2 cores: most of a test file's time is spent waiting on the real parts (PostgreSQL,
  // Samba, Chromium, servers in other processes), so a third file in flight shortens the run
  // (96 files: 13.5 min with 2 on this machine) without starving the others.
  maxWorkers: 3,
  // A worker keeps ~40 MB of heap per end-to-end file it ran (not traced further: no process
  // listener or handle of ours holds it), so after ~35 files it held 1.4 GB, and tearing
  // down a 2 GB process took 0.8–1.0 s, past Jest's 500 ms grace at the run's end: "A worker
  // process has failed to exit gracefully" (its event loop was empty within 1 ms of the end;
  // no handle was left open). A worker past this is replaced between files instead (at 512 MB
  // the last workers still held up to 840 MB resident, with the embedded databases' memory,
  // and took 434 ms to end).
  workerIdleMemoryLimit: '300MB',
};
