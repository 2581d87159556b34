import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import type { AppConfig } from '../config/config.schema.js';

/**
 * How much memory the embedded PGlite may take. PGlite runs PostgreSQL inside one
 * WebAssembly.Memory, which grows and never shrinks: whatever PostgreSQL once touched
 * (shared_buffers above all, PGlite's default being PostgreSQL's 128 MB) stays resident
 * for the life of the process. The defaults fit a small appliance VM; a hospital with
 * a large fleet and memory to spare raises them (EMBEDDED_SHARED_BUFFERS_MB, ...).
 */
export interface EmbeddedMemorySettings {
  /** PostgreSQL's page cache in the WebAssembly memory (wal_buffers follows it: 1/32). */
  sharedBuffersMb: number;
  /** Per sort or hash before it spills to temporary files. */
  workMemMb: number;
  /** CREATE INDEX and VACUUM (migrations): allocated when used, and kept once touched. */
  maintenanceWorkMemMb: number;
  /** Also compile PGlite's hot functions with V8's optimizing compiler (a second copy of the code). */
  wasmTierUp: boolean;
}

/** The embedded database's memory settings from the configuration (EMBEDDED_*). */
export function embeddedMemoryOf(config: AppConfig): EmbeddedMemorySettings {
  return {
    sharedBuffersMb: config.EMBEDDED_SHARED_BUFFERS_MB,
    workMemMb: config.EMBEDDED_WORK_MEM_MB,
    maintenanceWorkMemMb: config.EMBEDDED_MAINTENANCE_WORK_MEM_MB,
    wasmTierUp: config.EMBEDDED_WASM_TIER_UP,
  };
}

/**
 * V8 compiles WebAssembly twice: at once with its baseline compiler (Liftoff), then the hot
 * functions again with its optimizing one, keeping both. For PGlite's 9 MB module that second
 * copy is ~50-90 MB resident, for decisions that were not measurably faster with it (bench:memory,
 * docs/performance.md "Memory"). The flag is read when a module
 * is compiled, so it takes effect before PGlite.create; it applies to the whole process.
 */
export function compileWasmOnce(): void {
  setFlagsFromString('--liftoff-only');
}

/** PGlite's own start parameters, with the memory settings added. */
export function embeddedStartParams(memory: EmbeddedMemorySettings): string[] {
  return [
    ...PGlite.defaultStartParams,
    '-c',
    `shared_buffers=${memory.sharedBuffersMb}MB`,
    '-c',
    `work_mem=${memory.workMemMb}MB`,
    '-c',
    `maintenance_work_mem=${memory.maintenanceWorkMemMb}MB`,
  ];
}

/** PGlite's CommonJS entry, as a file URL that a child process can import wherever its working folder is. */
const pgliteEntry = (): string => pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;

/**
 * Runs PGlite's initdb for a new data folder in a child process. In this process it would
 * leave initdb's ~700 MB of WebAssembly memory resident for good (a worker thread keeps
 * ~300 MB of it); a child gives it all back when it exits.
 */
export async function createEmptyDatabase(pgdata: string, memory: EmbeddedMemorySettings): Promise<void> {
  const startParams = embeddedStartParams(memory);
  // Compiling once also halves initdb's time on two busy cores (20 s instead of 36 s).
  const script = `
    ${memory.wasmTierUp ? '' : "(await import('node:v8')).setFlagsFromString('--liftoff-only');"}
    try {
      const { PGlite } = await import(${JSON.stringify(pgliteEntry())});
      const db = await PGlite.create({ dataDir: ${JSON.stringify(pgdata)}, startParams: ${JSON.stringify(startParams)} });
      await db.close();
    } catch (error) {
      process.stderr.write(String(error?.message ?? error));
      process.exit(1);
    }`;
  await new Promise<void>((done, fail) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { maxBuffer: 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return done();
        fail(
          new Error(
            `Could not create the embedded database in ${pgdata}: ${stderr.trim() || error.message}. ` +
              'Check that GATEHOUSE_DATA_DIR is a folder this user may write to, on a disk with space; ' +
              'if a first start was interrupted, delete its pgdata folder and start again.',
            { cause: error },
          ),
        );
      },
    );
  });
}
