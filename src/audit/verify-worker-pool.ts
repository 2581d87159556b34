import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChainedRecord } from './audit-chain.js';

/** Hashes pages of records in one worker thread, started on first use. */
export class VerifyWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (h: string[]) => void; reject: (e: Error) => void }>();

  hash(records: ChainedRecord[]): Promise<string[]> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, records });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerFile());
    worker.unref();
    worker.on('message', (msg: { id: number; hashes: string[] }) => {
      this.pending.get(msg.id)?.resolve(msg.hashes);
      this.pending.delete(msg.id);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`The verification worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private fail(error: Error): void {
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/**
 * The compiled worker next to this module (dist/). Run from the TypeScript sources (the tests,
 * under @swc/jest), there is none: the worker and the one module it imports are compiled with
 * @swc/core (a dev dependency) into a temporary folder, once per process.
 */
let compiled: string | undefined;
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const js = join(here, '..', 'verify-worker.js');
  if (existsSync(js)) return js;
  if (compiled) return compiled;
  const swc = createRequire(import.meta.url)('@swc/core') as {
    transformSync(code: string, opts: object): { code: string };
  };
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-verify-worker-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const name of ['verify-worker', 'audit-chain']) {
    const source = readFileSync(join(here, '..', `${name}.ts`), 'utf8');
    const { code } = swc.transformSync(source, {
      filename: `${name}.ts`,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    });
    writeFileSync(join(dir, `${name}.js`), code);
  }
  compiled = join(dir, 'verify-worker.js');
  return compiled;
}
