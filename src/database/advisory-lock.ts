import type { QueryRunner } from 'typeorm';

/**
 * Ends a session advisory lock taken on `runner` and lets the connection go. A session lock
 * lives as long as its connection: if the unlock fails (connection broken, transaction left
 * aborted) the connection is closed rather than pooled, which frees the lock; pooled, it
 * would keep the lock and refuse every other replica until the pool closed it.
 */
export async function releaseSessionLock(runner: QueryRunner, key: number): Promise<void> {
  let unlocked: boolean;
  try {
    const rows = (await runner.query('SELECT pg_advisory_unlock($1) AS ok', [key])) as { ok: boolean }[];
    unlocked = rows[0]?.ok === true;
  } catch {
    unlocked = false;
  }
  if (unlocked) return runner.release();
  // PostgresQueryRunner: releasing with an error makes pg-pool close the connection.
  const discard = (runner as QueryRunner & { releasePostgresConnection?: (error: Error) => Promise<void> })
    .releasePostgresConnection;
  if (discard) return discard.call(runner, new Error(`advisory lock ${key} not released: connection closed`));
  return runner.release();
}
