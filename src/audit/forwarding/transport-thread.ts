import { Logger } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import { workerFile } from '../../common/worker-file.js';
import { settleMsOf, type TransportOptions } from './create-transport.js';
import type { WireItem } from './forward-item.js';
import type { ForwardTransport } from './forward-transport.js';

export type ToTransportThread = { type: 'send'; id: number; items: WireItem[] };
export type FromTransportThread =
  | { type: 'sent'; id: number; epoch: number; error?: string }
  | { type: 'epoch'; epoch: number }
  | { type: 'warning'; message: string };

/**
 * A receiver's transport in a worker thread of its own (transport-worker.ts), at a lower CPU
 * priority (AUDIT_FORWARD_NICE). Parsing, formatting and encrypting a batch cost some 15 µs a
 * record: on the thread that answers decisions, a catch-up at 30,000 records/s took a third of
 * it and blocked it 40 ms a batch. Here that thread only reads rows as strings and passes them on.
 *
 * `epoch` is the thread's count of lost connections, told by message the moment one ends
 * (well within the stream's settleMs), and grows too when the thread itself ends: then the
 * next batch starts a new one.
 */
export class TransportThread implements ForwardTransport {
  epoch = 0;
  readonly settleMs: number;
  private readonly logger: Logger;
  private worker: Worker | undefined;
  private threadEpoch = 0;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(
    private readonly options: TransportOptions,
    private readonly nice: number,
  ) {
    this.settleMs = settleMsOf(options.receiver);
    this.logger = new Logger(`AuditForwarding ${options.receiver.name}`);
  }

  send(items: WireItem[]): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'send', id, items } satisfies ToTransportThread);
    });
  }

  close(): void {
    const worker = this.worker;
    if (!worker) return;
    this.ended(worker, new Error('forwarding stopped'));
    // terminate() ends the thread even in the middle of a write that hangs.
    void worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(workerFile(import.meta.url, 'transport-worker'), {
      workerData: { ...this.options, nice: this.nice },
      name: `forwarding ${this.options.receiver.name}`,
    });
    worker.unref();
    this.threadEpoch = 0;
    worker.on('message', (message: FromTransportThread) => {
      if (message.type === 'warning') return this.logger.warn(message.message);
      this.seeEpoch(message.epoch);
      if (message.type !== 'sent') return;
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error === undefined) p?.resolve();
      else p?.reject(new Error(message.error));
    });
    worker.on('error', (error) => this.ended(worker, error));
    worker.on('exit', (code) => this.ended(worker, new Error(`the forwarding thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private seeEpoch(threadEpoch: number): void {
    if (threadEpoch === this.threadEpoch) return;
    this.threadEpoch = threadEpoch;
    this.epoch++;
  }

  /** The thread is gone: what it had not confirmed fails, and counts as sent on a lost connection. */
  private ended(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.epoch++;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
