import pg from 'pg';
import type { DrillLog } from './drill-log.js';
import type { Delivery } from './webhook-sink.js';

/** What the drill proves, read from the database itself (not through a replica). */
export interface DrillChecks {
  decisionsAcknowledged: number;
  /** Answers an agent received whose request or audit record is missing or changed. */
  decisionsLost: string[];
  /** Requests with more than one decision record in the audit chain. */
  decidedTwice: string[];
  approvalsAcknowledged: number;
  approvalsLost: string[];
  /** Requests left to expire: expired more than once, or not at all. */
  expiredTwice: string[];
  expiredMissing: string[];
  /** A webhook notification (event and request) received more than once. */
  notificationsTwice: string[];
  /** Webhook notifications queued but not sent, or marked sent and never received. */
  notificationsMissing: string[];
}

const countBy = (rows: { request_id: string; n: string }[]) => new Map(rows.map((r) => [r.request_id, Number(r.n)]));

export async function checkDrill(
  databaseUrl: string,
  log: DrillLog,
  unattended: string[],
  deliveries: Delivery[],
): Promise<DrillChecks> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const q = async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[];
    const ids = log.decisions.map((d) => d.requestId);
    const rows = new Map(
      (
        await q<{ request_id: string; status: string }>(
          'SELECT request_id::text, status FROM decision_requests WHERE request_id::text = ANY($1)',
          [ids],
        )
      ).map((r) => [r.request_id, r.status]),
    );
    const records = countBy(
      await q(
        `SELECT request_id, count(*) AS n FROM audit_records
         WHERE event_type = 'decision' AND request_id = ANY($1) GROUP BY request_id`,
        [ids],
      ),
    );
    const decisionsLost: string[] = [];
    for (const d of log.decisions) {
      const now = rows.get(d.requestId);
      const final = log.finals.get(d.requestId)?.status;
      if (!now) decisionsLost.push(`${d.requestId}: answered ${d.status}, not in decision_requests`);
      else if (d.status !== 'pending' && now !== d.status)
        decisionsLost.push(`${d.requestId}: answered ${d.status}, now ${now}`);
      else if (final && now !== final) decisionsLost.push(`${d.requestId}: finally answered ${final}, now ${now}`);
      if (!records.get(d.requestId))
        decisionsLost.push(`${d.requestId}: answered ${d.status}, no decision audit record`);
    }
    const decidedTwice = (
      await q<{ request_id: string }>(
        `SELECT request_id FROM audit_records WHERE event_type = 'decision' GROUP BY request_id HAVING count(*) > 1`,
      )
    ).map((r) => r.request_id);

    const approved = log.approvals.map((a) => a.requestId);
    const votes = new Set(
      (
        await q<{ request_id: string; username: string }>(
          `SELECT request_id::text, username FROM approval_votes WHERE vote = 'approve' AND request_id::text = ANY($1)`,
          [approved],
        )
      ).map((v) => `${v.request_id} ${v.username}`),
    );
    const approvalRecords = countBy(
      await q(
        `SELECT request_id, count(*) AS n FROM audit_records
         WHERE event_type = 'approval.approved' AND request_id = ANY($1) GROUP BY request_id`,
        [approved],
      ),
    );
    const approvedRows = new Map(
      (
        await q<{ request_id: string; status: string }>(
          'SELECT request_id::text, status FROM decision_requests WHERE request_id::text = ANY($1)',
          [approved],
        )
      ).map((r) => [r.request_id, r.status]),
    );
    const approvalsLost: string[] = [];
    for (const a of log.approvals) {
      if (!votes.has(`${a.requestId} ${a.approver}`))
        approvalsLost.push(`${a.requestId}: ${a.approver}'s vote is missing`);
      if (!approvalRecords.get(a.requestId)) approvalsLost.push(`${a.requestId}: no approval.approved audit record`);
      if (approvedRows.get(a.requestId) !== 'approved') {
        approvalsLost.push(`${a.requestId}: approved, now ${approvedRows.get(a.requestId) ?? 'missing'}`);
      }
      const final = log.finals.get(a.requestId);
      if (final && final.decision !== 'allow')
        approvalsLost.push(`${a.requestId}: approved, the agent got ${final.status}`);
    }

    const expiries = countBy(
      await q(
        `SELECT request_id, count(*) AS n FROM audit_records WHERE event_type = 'decision.expired' GROUP BY request_id`,
      ),
    );
    const expiredTwice = [...expiries].filter(([, n]) => n > 1).map(([id]) => id);
    const expiredMissing = unattended.filter((id) => !expiries.get(id));

    const received = new Map<string, number>();
    for (const d of deliveries)
      received.set(`${d.event} ${d.requestId}`, (received.get(`${d.event} ${d.requestId}`) ?? 0) + 1);
    const notificationsTwice = [...received].filter(([, n]) => n > 1).map(([key]) => key);
    const queued = await q<{ event: string; request_id: string; status: string }>(
      `SELECT event, request_id::text, status FROM notifications WHERE channel = 'webhook'`,
    );
    const notificationsMissing = queued
      // skipped: an "approval needed" for a request decided meanwhile is not sent (its outcome is).
      .filter((n) => n.status !== 'skipped' && (n.status !== 'sent' || !received.has(`${n.event} ${n.request_id}`)))
      .map((n) => `${n.event} ${n.request_id} (${n.status})`);

    return {
      decisionsAcknowledged: log.decisions.length,
      decisionsLost,
      decidedTwice,
      approvalsAcknowledged: log.approvals.length,
      approvalsLost,
      expiredTwice,
      expiredMissing,
      notificationsTwice,
      notificationsMissing,
    };
  } finally {
    await client.end();
  }
}

/**
 * Waits until the left requests expired and every outcome was announced and sent (the jobs
 * run a moment after the last decision).
 */
export async function waitForJobs(databaseUrl: string, unattended: string[], timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      // Every request is decided by now: its outcome must be announced (queued) and then sent.
      const [{ unsent, pending, unannounced }] = (
        await client.query(
          `SELECT (SELECT count(*) FROM notifications WHERE channel = 'webhook' AND status = 'pending') AS unsent,
                  (SELECT count(*) FROM decision_requests WHERE status = 'pending' AND request_id::text = ANY($1)) AS pending,
                  (SELECT count(*) FROM approval_notices WHERE outcome_notified_at IS NULL) AS unannounced`,
          [unattended],
        )
      ).rows as { unsent: string; pending: string; unannounced: string }[];
      if (Number(unsent) === 0 && Number(pending) === 0 && Number(unannounced) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await client.end();
  }
}

/** Makes pending requests due now, as if their time-out had passed (the shortest a policy allows is a minute). */
export async function makeDue(databaseUrl: string, requestIds: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `UPDATE decision_requests SET expires_at = now() WHERE status = 'pending' AND request_id::text = ANY($1)`,
      [requestIds],
    );
  } finally {
    await client.end();
  }
}
