import type { DrillLog } from './drill-log.js';
import type { StaffClient } from './staff-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Approver {
  username: string;
  token: string;
  /** This approver answers the requests whose id falls in its share (two never race on one). */
  index: number;
  of: number;
}

const shareOf = (requestId: string, of: number) => parseInt(requestId.slice(0, 4), 16) % of;

/**
 * An approver at the console: reads the pending queue from whichever replica the balancer
 * picks and approves each request in its share once it has waited `approveAfterMs` (people
 * take a moment: meanwhile the agents' long polls are open), except the ones left to expire.
 */
export async function runApprover(
  client: StaffClient,
  approver: Approver,
  unattended: ReadonlySet<string>,
  log: DrillLog,
  approveAfterMs: number,
  stopped: () => boolean,
): Promise<void> {
  const done = new Set<string>();
  while (!stopped()) {
    const page = await client.call('GET', '/api/v1/approvals?status=pending', { token: approver.token });
    if (page.status !== 200) {
      await sleep(250);
      continue;
    }
    const ripe = Date.now() - approveAfterMs;
    const ids = (page.body.items as { requestId: string; createdAt: string }[])
      .filter((i) => Date.parse(i.createdAt) <= ripe)
      .map((i) => i.requestId)
      .filter((id) => !unattended.has(id) && !done.has(id) && shareOf(id, approver.of) === approver.index);
    for (const requestId of ids) {
      // Answered (200 or 409): done; no replica answered: tried again next round.
      if (await approve(client, approver, requestId, log)) done.add(requestId);
    }
    await sleep(150);
  }
}

async function approve(client: StaffClient, approver: Approver, requestId: string, log: DrillLog): Promise<boolean> {
  const startedAt = Date.now();
  const res = await client.call('POST', `/api/v1/approvals/${requestId}/approve`, {
    token: approver.token,
    body: { comment: 'HA drill' },
  });
  log.calls.push({ kind: 'approve', startedAt, endedAt: Date.now(), failures: res.failures, answered: res.status > 0 });
  if (res.status === 200) {
    log.approvals.push({ requestId, approver: approver.username, at: startedAt });
  } else if (res.status === 409 && res.failures.length > 0) {
    // The first attempt's answer was lost; the retry found the request decided (by that attempt, or expired).
    log.approvalsUnconfirmed++;
  } else if (res.status !== 0) {
    log.errors.push(`approval of ${requestId} by ${approver.username}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.status !== 0;
}
