import type { DataSource, QueryRunner } from 'typeorm';

/** An advisory lock's key: one number, or PostgreSQL's two int4 halves (a class and an item of it). */
export type LockKey = number | readonly [number, number];

/** The lock function's arguments for `key`: its placeholders and parameters. */
const keyArgs = (key: LockKey): [string, number[]] => (typeof key === 'number' ? ['$1', [key]] : ['$1, $2', [...key]]);

/**
 * Takes session advisory lock `key` on a pooled connection of its own, held until
 * releaseSessionLock(runner, key); undefined when another session holds it (the connection
 * then goes back at once). For work that runs once across replicas and CLIs.
 */
export async function trySessionLock(dataSource: DataSource, key: LockKey): Promise<QueryRunner | undefined> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const [placeholders, params] = keyArgs(key);
    const rows = (await runner.query(`SELECT pg_try_advisory_lock(${placeholders}) AS ok`, params)) as {
      ok: boolean;
    }[];
    if (rows[0]?.ok === true) return runner;
  } catch (error) {
    await runner.release();
    throw error;
  }
  await runner.release();
  return undefined;
}

/**
 * Ends a session advisory lock taken on `runner` and lets the connection go. A session lock
 * lives as long as its connection, so it must never go back to the pool still held (it
 * would refuse every other replica until the pool closed the connection):
 * - a transaction left open or aborted on the connection is rolled back, then unlocked;
 * - if the unlock still fails (connection broken), the connection is closed rather than
 *   pooled, which frees the lock once PostgreSQL notices.
 */
export async function releaseSessionLock(runner: QueryRunner, key: LockKey): Promise<void> {
  if ((await unlock(runner, key)) || ((await rollback(runner)) && (await unlock(runner, key)))) {
    return runner.release();
  }
  // PostgresQueryRunner: releasing with an error makes pg-pool close the connection.
  const discard = (runner as QueryRunner & { releasePostgresConnection?: (error: Error) => Promise<void> })
    .releasePostgresConnection;
  if (discard) return discard.call(runner, new Error(`advisory lock ${String(key)} not released: connection closed`));
  return runner.release();
}

async function unlock(runner: QueryRunner, key: LockKey): Promise<boolean> {
  try {
    const [placeholders, params] = keyArgs(key);
    const rows = (await runner.query(`SELECT pg_advisory_unlock(${placeholders}) AS ok`, params)) as { ok: boolean }[];
    return rows[0]?.ok === true;
  } catch {
    return false;
  }
}

async function rollback(runner: QueryRunner): Promise<boolean> {
  try {
    await runner.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
