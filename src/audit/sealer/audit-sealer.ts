import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { CoalescingRunner } from '../../common/coalescing-runner.js';
import { withDeadline } from '../../common/deadline.js';
import { SealLagGate } from './seal-lag-gate.js';

/** A background round this often on every replica (one seals at a time: the others find the chain busy). */
export const SEAL_INTERVAL_MS = 25;
/** Inbox rows moved per statement; a round goes on while a statement moved this many. */
export const SEAL_BATCH = 5000;
/**
 * Rounds asked for while one runs start this long after it ends: each round is a commit (an
 * fsync) and takes the chain's lock, so back-to-back rounds of a few records each cost more
 * than they save (bench:audit); the lag stays well under SEAL_LAG_BOUND_MS.
 */
export const SEAL_GAP_MS = 5;
/** Longest a read of the trail waits for the records of decisions already answered (then 503). */
export const READ_BARRIER_MS = 2000;
/** The seal lag README.md states: a record is in the chain this soon after its decision committed. */
export const SEAL_LAG_BOUND_MS = 100;
/**
 * Past this seal lag, measured at the end of each round, new decision commits wait for the
 * sealer (`admission`), up to their deadline (then 503). Under a third of the bound: a record
 * committed just after a round's seal began waits for the rest of that round and all of the
 * next, so the lag peaks near twice what a round end measures (bench:audit: with half the
 * bound the lag's p99 was 130 ms).
 */
export const SEAL_BACKPRESSURE_MS = 30;

export interface SealLag {
  /** Audit records committed (their decisions answered) but not yet in the chain. */
  unsealed: number;
  /** Age of the oldest of them, by the database's clock (0 when none). */
  oldestSeconds: number;
}

/**
 * Moves decisions' audit records from audit_inbox into the chain (audit_seal, migration
 * AuditInbox): in id order, seq and hash continuing the chain, the inbox rows' DELETE and the
 * chain's INSERT in one transaction, under the chain's advisory lock. Every replica runs
 * rounds (after its own decision commits, and every SEAL_INTERVAL_MS for the others'); a
 * round that finds the chain's lock taken does nothing, since whoever holds it seals (an
 * audit_append seals the inbox before its own records). A sealer killed mid-round leaves its
 * rows in the inbox (its transaction never committed) for the next round, anywhere.
 */
export class AuditSealer {
  private readonly logger = new Logger('AuditSealer');
  private readonly runner = new CoalescingRunner(
    () => this.drain(),
    (error) => this.logger.warn(`Audit seal round failed (the records stay in the inbox): ${error.message}`),
    SEAL_GAP_MS,
  );

  /**
   * Back-pressure for the decisions' commits (DecisionWriter's GroupCommitter): closed while the
   * last seal lag measured is past SEAL_BACKPRESSURE_MS, so writers never outrun the sealer.
   */
  readonly admission = new SealLagGate(SEAL_BACKPRESSURE_MS);

  constructor(
    private readonly dataSource: DataSource,
    private readonly intervalMs = SEAL_INTERVAL_MS,
  ) {}

  start(): void {
    if (!this.runner.isStopped) this.runner.every(this.intervalMs);
  }

  /** A round as soon as the one in progress ends (rounds asked for meanwhile are one). */
  soon(): void {
    void this.runner.run();
  }

  /**
   * The read barrier: returns once every inbox row committed before the call is in the chain
   * (it waits for the chain's lock and seals them itself), so a read that follows sees every
   * decision already answered. Past READ_BARRIER_MS it rejects with a DatabaseTimeoutError
   * (503: retry); the sealing goes on.
   */
  sealPending(): Promise<void> {
    return withDeadline(
      (async () => {
        while ((await this.seal(true)) >= SEAL_BATCH);
      })(),
      READ_BARRIER_MS,
      'Sealing the audit records of decisions already answered, before reading the trail',
    );
  }

  /** What waits in the inbox (verify and the metrics report it). */
  async lag(): Promise<SealLag> {
    const [[count], oldestSeconds] = await Promise.all([
      this.dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM audit_inbox'),
      this.oldestSeconds(),
    ]);
    return { unsealed: count.n, oldestSeconds };
  }

  /**
   * Age of the oldest record waiting (0 when none), found through the primary key: the inbox is
   * a queue, full of dead rows between vacuums, which a count or a min() scans (bench:audit
   * samples this every 10 ms).
   */
  async oldestSeconds(): Promise<number> {
    const [row] = await this.dataSource.query<{ age: number | string | null }[]>(
      `SELECT (SELECT extract(epoch FROM clock_timestamp() - queued_at)::float8 FROM audit_inbox ORDER BY id LIMIT 1) AS age`,
    );
    return Math.max(0, Number(row.age ?? 0));
  }

  /**
   * Stops the rounds and seals what this process's decisions left (a clean shutdown leaves none:
   * back-pressure keeps that backlog to about SEAL_LAG_BOUND_MS of sealing, well within
   * READ_BARRIER_MS), then lets any commit still waiting for admission go.
   */
  async stop(): Promise<void> {
    await this.runner.stop();
    try {
      await this.sealPending();
    } catch (error) {
      // Left in the inbox, durable: the next sealer (another replica, or the next start) seals them.
      this.logger.warn(`Audit records left unsealed at shutdown: ${(error as Error).message}`);
    } finally {
      this.admission.release();
    }
  }

  /**
   * Seals until the inbox is drained or another holds the chain (-1: it seals), or the sealer
   * stops; then measures the lag for `admission` either way, so every replica knows it.
   */
  private async drain(): Promise<void> {
    for (;;) {
      let sealed: number;
      while ((sealed = await this.seal(false)) >= SEAL_BATCH && !this.runner.isStopped);
      this.admission.observe(await this.oldestSeconds());
      // Behind, and this replica seals: seal again at once (no SEAL_GAP_MS, no waiting for the
      // next interval: the decisions held back commit nothing to ask for a round).
      if (sealed <= 0 || this.admission.ready() || this.runner.isStopped) return;
    }
  }

  /** One statement: up to SEAL_BATCH rows into the chain; -1 when `wait` is false and the chain is busy. */
  private async seal(wait: boolean): Promise<number> {
    const [row] = await this.dataSource.query<{ sealed: number }[]>('SELECT audit_seal($1, $2) AS sealed', [
      SEAL_BATCH,
      wait,
    ]);
    return Number(row.sealed);
  }
}
