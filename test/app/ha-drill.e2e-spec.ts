import { describe, expect, it } from '@jest/globals';
import { runDrill } from '../../bench/ha-drill/drill.js';
import { drillReport } from '../../bench/ha-drill/report.js';
import { startServerProcess } from '../support/server-process.js';
import { createTestDatabase, testDatabaseKind } from '../support/test-db.js';

// `npm run drill:ha` in small (bench/ha-drill/): three replicas as real processes on one
// PostgreSQL database behind a TCP proxy, a few agents (the SDK, retrying by requestId on the
// other replicas) and approvers; one replica killed with SIGKILL while an agent long polls on
// it, then started again; every database connection dropped for a moment.
const TINY = {
  agents: 4,
  approvers: 1,
  loadMs: 6_000,
  downMs: 500,
  outageMs: 1_500,
  unattended: 2,
  thinkMs: 20,
  approveAfterMs: 800,
  waitSeconds: 5,
};

describe('HA drill', () => {
  it('a replica killed under load and a database outage lose no decision or approval, and no job runs twice', async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error(
        'This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432): replicas share one',
      );
    }
    const db = await createTestDatabase();
    const progress: string[] = [];
    const t0 = Date.now();
    try {
      const result = await runDrill({
        databaseUrl: db.env.DATABASE_URL,
        launch: (env) => startServerProcess(env),
        options: TINY,
        say: (line) => progress.push(`[${Date.now() - t0} ms] ${line}`),
      });
      const report = [...progress, ...drillReport(result)].join('\n');
      const { checks: c, figures: f } = result;
      if (process.env.HA_DRILL_PRINT) console.log(report);
      expect({ lost: c.decisionsLost, twice: c.decidedTwice, report }).toEqual({ lost: [], twice: [], report });
      expect(c.decisionsAcknowledged).toBeGreaterThan(0);
      expect({ approvalsLost: c.approvalsLost, report }).toEqual({ approvalsLost: [], report });
      expect(c.approvalsAcknowledged).toBeGreaterThan(0);
      expect({
        expiredTwice: c.expiredTwice,
        expiredMissing: c.expiredMissing,
        notificationsTwice: c.notificationsTwice,
        notificationsMissing: c.notificationsMissing,
        report,
      }).toEqual({ expiredTwice: [], expiredMissing: [], notificationsTwice: [], notificationsMissing: [], report });
      // The killed replica's calls in flight (a long poll at least) were retried and answered elsewhere.
      expect({ inFlight: f.killedInFlight.total > 0, report }).toEqual({ inFlight: true, report });
      expect(f.killedInFlight.answered).toBe(f.killedInFlight.total);
      expect(f.longPolls.reattached).toBe(f.longPolls.broken);
      expect(f.unanswered).toBe(0);
      expect(result.auditVerified.ok).toBe(true);
    } finally {
      await db.dispose();
    }
  }, 180_000);
});
