import { Worker } from 'node:worker_threads';
import { workerFile } from '../common/worker-file.js';
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
    const worker = new Worker(workerFile(import.meta.url, 'verify-worker'));
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
