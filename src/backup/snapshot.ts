import type { DataSource } from 'typeorm';
import type { SnapshotQuery, SnapshotSource } from './snapshot-dump.js';

/**
 * One read-only REPEATABLE READ transaction on its own connection: every query through it sees
 * the same snapshot of the database, whatever commits meanwhile. On the embedded database the
 * connection is the only one, so other queries wait while the snapshot is read.
 */
export async function openSnapshot(dataSource: DataSource): Promise<{ query: SnapshotQuery; close(): Promise<void> }> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  } catch (error) {
    await runner.release();
    throw error;
  }
  return {
    query: <T>(sql: string, params?: unknown[]) => runner.query(sql, params) as Promise<T[]>,
    async close() {
      try {
        await runner.query('ROLLBACK');
      } finally {
        await runner.release();
      }
    },
  };
}

/**
 * The lines of snapshotLines, with the snapshot closed however the reading ends. With
 * `appendOnlyOutside` (the embedded database), the audit records are read after the snapshot
 * ended, in short queries between which other requests get the one connection.
 */
export async function* linesInSnapshot(
  dataSource: DataSource,
  lines: (source: SnapshotSource) => AsyncGenerator<string>,
  options: { appendOnlyOutside: boolean },
): AsyncGenerator<string> {
  const snapshot = await openSnapshot(dataSource);
  let open = true;
  const endSnapshot = async () => {
    if (!open) return;
    open = false;
    await snapshot.close();
  };
  const outside = {
    endSnapshot,
    query: <T>(sql: string, params?: unknown[]) => dataSource.query<T[]>(sql, params),
  };
  try {
    yield* lines({ query: snapshot.query, ...(options.appendOnlyOutside ? { outside } : {}) });
  } finally {
    await endSnapshot();
  }
}
