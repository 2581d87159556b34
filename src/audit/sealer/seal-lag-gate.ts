import { Logger } from '@nestjs/common';
import type { Admission } from '../../common/group-commit.js';

const LOG_EVERY_MS = 60_000;

/**
 * Back-pressure from the sealer to the decisions (issue 16): what the sealer last measured of the
 * seal lag (age of the oldest inbox row, by the database's clock), and the decision commits
 * waiting for it to come back under `thresholdMs`. The sealer refreshes it at the end of every
 * round, sealing or not (another replica may hold the chain), and each refresh wakes the
 * waiting commits, which look again: no polling of their own.
 */
export class SealLagGate implements Admission {
  private readonly logger = new Logger('AuditSealer');
  private lagMs = 0;
  private released = false;
  private waiters: (() => void)[] = [];
  private closings = 0;
  private loggedAt = -Infinity;

  constructor(private readonly thresholdMs: number) {}

  /** New decision commits may be sent: the last lag measured is within the threshold (or the sealer stopped). */
  ready(): boolean {
    return this.released || this.lagMs <= this.thresholdMs;
  }

  /** Resolves at the sealer's next measure of the lag. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The sealer's measure, at the end of a round: `seconds` the age of the oldest inbox row. */
  observe(seconds: number): void {
    const wasReady = this.ready();
    this.lagMs = seconds * 1000;
    if (wasReady && !this.ready()) this.closed();
    this.wake();
  }

  /**
   * The sealer stopped (shutdown): no more measures will come, so nothing waits for one; what is
   * committed after stays durable in the inbox for the next sealer.
   */
  release(): void {
    this.released = true;
    this.wake();
  }

  /** Logs the lag passing the threshold: at once, then at most every LOG_EVERY_MS (under sustained overload it flaps). */
  private closed(): void {
    this.closings += 1;
    const now = Date.now();
    if (now - this.loggedAt < LOG_EVERY_MS) return;
    this.logger.warn(
      `Seal lag ${Math.round(this.lagMs)} ms is past ${this.thresholdMs} ms: decisions wait for the sealer ` +
        `(up to their deadline, then 503); ${this.closings} time(s) since the last such message`,
    );
    this.loggedAt = now;
    this.closings = 0;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
