import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { releaseSessionLock, trySessionLock, type LockKey } from '../../database/advisory-lock.js';

/** The class half of the two-key advisory locks, one per receiver: "fwrd". */
const FORWARD_LOCK_CLASS = 0x6677_7264;

/** A receiver's name as the other half of its lock key (int4). */
export function receiverLockKey(name: string): number {
  let h = 0;
  for (const c of name) h = (Math.imul(h, 31) + c.codePointAt(0)!) | 0;
  return h;
}

/**
 * The right to forward to one receiver, so that on several replicas one forwards (the others
 * stand by and take over when its connection goes). On PostgreSQL: a session advisory lock on
 * a connection kept for it, and the forwarder's reads and cursor writes go through that same
 * connection, so a lost connection is a lost lock, noticed at the next query. On the embedded
 * database there is one process: no lock, the shared connection.
 */
export class ForwardLease {
  private runner: QueryRunner | undefined;
  private readonly key: LockKey;

  constructor(
    private readonly dataSource: DataSource,
    private readonly embedded: boolean,
    receiver: string,
  ) {
    this.key = [FORWARD_LOCK_CLASS, receiverLockKey(receiver)];
  }

  /** The connection to work on while the lease is held; null while another replica holds it. */
  async acquire(): Promise<EntityManager | null> {
    if (this.embedded) return this.dataSource.manager;
    this.runner ??= await trySessionLock(this.dataSource, this.key);
    return this.runner?.manager ?? null;
  }

  /** Gives the lease up (shutdown, or its connection failed): another replica may take over. */
  async release(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    // Unlocks, or closes the connection (which frees the lock) when that fails; never throws here.
    if (runner) await releaseSessionLock(runner, this.key).catch(() => undefined);
  }
}
