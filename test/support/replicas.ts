import type { Clock } from '../../src/common/clock.js';
import { startTestApp, type TestApp } from './test-app.js';
import { createTestDatabase, testDatabaseKind } from './test-db.js';

/**
 * Two application instances on one fresh PostgreSQL database, as two replicas would run
 * (the embedded database serves one process, so these tests need the server).
 */
export async function withTwoReplicas(
  fn: (a: TestApp, b: TestApp) => Promise<void>,
  options: { clock?: Clock; env?: Record<string, string> } = {},
): Promise<void> {
  if (testDatabaseKind() !== 'postgres') {
    throw new Error('This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432): replicas share one');
  }
  const db = await createTestDatabase();
  const a = await startTestApp({ db, ...options });
  const b = await startTestApp({ db, ...options });
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
    await db.dispose();
  }
}
