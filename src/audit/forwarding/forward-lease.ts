import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { releaseSessionLock } from '../../database/advisory-lock.js';

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

  constructor(
    private readonly dataSource: DataSource,
    private readonly embedded: boolean,
    private readonly receiver: string,
  ) {}

  /** The connection to work on while the lease is held; null while another replica holds it. */
  async acquire(): Promise<EntityManager | null> {
    if (this.embedded) return this.dataSource.manager;
    if (this.runner) return this.runner.manager;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ ok }] = (await runner.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        FORWARD_LOCK_CLASS,
        receiverLockKey(this.receiver),
      ])) as { ok: boolean }[];
      if (!ok) {
        await runner.release();
        return null;
      }
    } catch (error) {
      await runner.release();
      throw error;
    }
    this.runner = runner;
    return runner.manager;
  }

  /** Gives the lease up (shutdown, or its connection failed): another replica may take over. */
  async release(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (!runner) return;
    // releaseSessionLock takes one key; this lock has two, so unlock here and let it close the connection if that fails.
    try {
      await runner.query('SELECT pg_advisory_unlock($1, $2)', [FORWARD_LOCK_CLASS, receiverLockKey(this.receiver)]);
      await runner.release();
    } catch {
      await releaseSessionLock(runner, 0).catch(() => undefined);
    }
  }
}
