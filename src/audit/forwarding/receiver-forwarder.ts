import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Clock } from '../../common/clock.js';
import type { AuditService } from '../audit.service.js';
import { readBatch, type ForwardPosition } from './forward-batch.js';
import { ForwardCursorStore, type ForwardCursor } from './forward-cursor.store.js';
import type { ForwardLease } from './forward-lease.js';
import type { ForwardTransport } from './forward-transport.js';

/** Records per batch read and sent. */
export const BATCH_SIZE = 2_000;
/** How often an idle forwarder looks for new records (and confirms what it sent). */
const IDLE_MS = 200;
/** How often a stand-by replica tries to take the receiver over. */
const STANDBY_MS = 5_000;
/**
 * While the thread that answers decisions is busier than this (its event loop's utilisation
 * since the last batch), a catch-up waits BUSY_PAUSE_MS between batches: forwarding's CPU
 * (reads here, and PostgreSQL's, which decisions wait for) goes to the decisions first.
 */
export const BUSY_UTILIZATION = 0.8;
export const BUSY_PAUSE_MS = 200;
/** Back-off after a failure: doubles from the first to the last. */
const BACKOFF_MS = [500, 15_000] as const;

/** This thread's event-loop utilisation (0 to 1) since the previous call of the returned function. */
export function eventLoopBusySinceLastCall(): () => number {
  let since = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, since).utilization;
    since = now;
    return busy;
  };
}

const samePosition = (a: ForwardPosition, b: ForwardPosition) => a.seq === b.seq && a.checkpointSeq === b.checkpointSeq;

interface Sent {
  position: ForwardPosition;
  epoch: number;
  at: number;
}

/**
 * Forwards the trail to one receiver, in order, at least once: reads batches by seq from the
 * persistent cursor, sends them, and moves the cursor once the transport confirms them (see
 * ForwardTransport); on a failure it backs off and starts again from the cursor. It runs on its
 * own timer, away from the decision path: a slow receiver slows nothing but itself.
 */
export class ReceiverForwarder {
  private readonly logger: Logger;
  private cursor: ForwardCursor | undefined;
  private position: ForwardPosition = { seq: 0, checkpointSeq: 0 };
  private sent: Sent[] = [];
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;
  /** The next batch, read while the current one is being sent (reading and sending overlap). */
  private prefetch: { from: ForwardPosition; batch: Promise<Awaited<ReturnType<typeof readBatch>>> } | undefined;

  constructor(
    readonly name: string,
    private readonly transport: ForwardTransport,
    private readonly lease: ForwardLease,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly alertAfterMs: number,
    /** How busy the decisions' thread was since the last call, 0 to 1 (a test may say). */
    private readonly loopBusy: () => number = eventLoopBusySinceLastCall(),
  ) {
    this.logger = new Logger(`AuditForwarding ${name}`);
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.transport.close();
    await this.current;
    await this.lease.release();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.round().then((next) => this.schedule(next));
    }, ms);
    this.timer.unref();
  }

  /** One round; returns how long to wait before the next. */
  async round(): Promise<number> {
    let manager: EntityManager | null;
    let store: ForwardCursorStore;
    let batch: Awaited<ReturnType<typeof readBatch>>;
    try {
      manager = await this.lease.acquire();
      if (!manager) return STANDBY_MS;
      const m = manager;
      store = new ForwardCursorStore(() => m);
      if (!this.cursor) {
        this.cursor = await store.load(this.name);
        this.position = { seq: this.cursor.lastSeq, checkpointSeq: this.cursor.lastCheckpointSeq };
      }
      await this.confirmSent(store);
      const ahead = this.prefetch;
      this.prefetch = undefined;
      batch = await (ahead && samePosition(ahead.from, this.position)
        ? ahead.batch
        : readBatch(m, this.position, BATCH_SIZE));
      if (batch.items.length >= BATCH_SIZE) {
        const from = batch.next;
        this.prefetch = { from, batch: readBatch(m, from, BATCH_SIZE) };
        this.prefetch.batch.catch(() => undefined); // a failure shows when it is used
      }
    } catch (error) {
      // The database, not the receiver: give the lease up (another replica may do better) and retry.
      this.logger.warn(`Reading the trail failed: ${(error as Error).message}`);
      this.cursor = undefined;
      this.sent = [];
      this.prefetch = undefined;
      await this.lease.release();
      return this.backoff();
    }
    if (batch.items.length === 0) return IDLE_MS;
    try {
      await this.transport.send(batch.items);
    } catch (error) {
      if (this.stopped) return 0;
      await this.failed(store, error as Error);
      return this.backoff();
    }
    this.sent.push({ position: batch.next, epoch: this.transport.epoch, at: performance.now() });
    this.position = batch.next;
    await this.confirmSent(store).catch((e: Error) => this.logger.warn(`Saving the cursor failed: ${e.message}`));
    this.failures = 0;
    return batch.items.length >= BATCH_SIZE ? this.catchUpPause() : IDLE_MS;
  }

  /** 0, or BUSY_PAUSE_MS while decisions keep the event loop busy (see BUSY_UTILIZATION). */
  private catchUpPause(): number {
    return this.loopBusy() > BUSY_UTILIZATION ? BUSY_PAUSE_MS : 0;
  }

  /**
   * Moves the cursor over what the transport confirmed; everything sent on a connection that
   * was lost since is sent again from the cursor.
   */
  private async confirmSent(store: ForwardCursorStore): Promise<void> {
    const cursor = this.cursor!;
    if (this.sent.some((s) => s.epoch !== this.transport.epoch)) {
      this.sent = [];
      this.position = { seq: cursor.lastSeq, checkpointSeq: cursor.lastCheckpointSeq };
      return;
    }
    const settledBefore = performance.now() - this.transport.settleMs;
    let confirmed: ForwardPosition | undefined;
    while (this.sent.length && this.sent[0].at <= settledBefore) confirmed = this.sent.shift()!.position;
    const recovered = confirmed !== undefined && cursor.failingSince !== null;
    if (!confirmed) return;
    cursor.lastSeq = confirmed.seq;
    cursor.lastCheckpointSeq = confirmed.checkpointSeq;
    cursor.lastForwardedAt = this.clock.now();
    if (recovered) {
      if (cursor.alerted) await this.record('audit.forwarding.recovered', { failingSince: cursor.failingSince });
      this.logger.log(`Forwarding works again (failing since ${cursor.failingSince!.toISOString()})`);
      cursor.failingSince = null;
      cursor.alerted = false;
    }
    await store.save(this.name, cursor);
  }

  /** Keeps the error for the status, and records `audit.forwarding.failing` once it lasts too long. */
  private async failed(store: ForwardCursorStore, error: Error): Promise<void> {
    const cursor = this.cursor!;
    const now = this.clock.now();
    this.sent = [];
    this.position = { seq: cursor.lastSeq, checkpointSeq: cursor.lastCheckpointSeq };
    if (cursor.failingSince === null) this.logger.warn(`Forwarding failed: ${error.message}`);
    cursor.lastError = error.message;
    cursor.lastErrorAt = now;
    cursor.failingSince ??= now;
    try {
      if (!cursor.alerted && now.getTime() - cursor.failingSince.getTime() >= this.alertAfterMs) {
        await this.record('audit.forwarding.failing', { failingSince: cursor.failingSince, lastError: error.message });
        cursor.alerted = true;
      }
      await store.save(this.name, cursor);
    } catch (e) {
      this.logger.warn(`Recording the forwarding failure failed: ${(e as Error).message}`);
    }
  }

  private async record(eventType: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.append({ eventType, actorType: 'system', details: { receiver: this.name, ...details } });
  }

  private backoff(): number {
    const ms = Math.min(BACKOFF_MS[0] * 2 ** this.failures, BACKOFF_MS[1]);
    this.failures++;
    return ms;
  }
}
