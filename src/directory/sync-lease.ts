import type { DataSource, EntityManager } from 'typeorm';
import { conflict } from '../common/api-error.js';
import { releaseSessionLock, trySessionLock } from '../database/advisory-lock.js';

/** One sync at a time across every replica sharing the database. */
export const DIRECTORY_SYNC_LOCK_KEY = 0x6469_7273; // "dirs"

/**
 * The right to sync, held for the whole sync. `manager` is where the sync's own status
 * writes go; `transaction` runs the write-out.
 */
export interface SyncLease {
  manager: EntityManager;
  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T>;
  release(): Promise<void>;
}

const busy = () => conflict('A directory sync is already running; see GET /api/v1/directory/status');

/**
 * On PostgreSQL: a session advisory lock on a connection kept for the sync (other replicas
 * get 409). On the embedded database there is one process (its data folder is locked) and
 * ONE connection: holding it through the directory read would stall every other query (sign-in,
 * decisions, the status) for the whole read, so a flag in this process is the lock and the
 * connection is taken only for the write-out transaction.
 */
export async function acquireSyncLease(dataSource: DataSource, embedded: boolean): Promise<SyncLease> {
  if (embedded) {
    if (embeddedSyncRunning) throw busy();
    embeddedSyncRunning = true;
    return {
      manager: dataSource.manager,
      transaction: (fn) => dataSource.transaction(fn),
      release: () => {
        embeddedSyncRunning = false;
        return Promise.resolve();
      },
    };
  }
  const runner = await trySessionLock(dataSource, DIRECTORY_SYNC_LOCK_KEY);
  if (!runner) throw busy();
  return {
    manager: runner.manager,
    transaction: (fn) => runner.manager.transaction(fn),
    release: () => releaseSessionLock(runner, DIRECTORY_SYNC_LOCK_KEY),
  };
}

let embeddedSyncRunning = false;

/** Whether a sync holds the lease now (a replica that died mid-sync leaves its status behind). */
export async function syncRunning(dataSource: DataSource, embedded: boolean): Promise<boolean> {
  if (embedded) return embeddedSyncRunning;
  const held = await dataSource.query<{ held: boolean }[]>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND granted
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS held`,
    [DIRECTORY_SYNC_LOCK_KEY],
  );
  return held[0]?.held === true;
}
