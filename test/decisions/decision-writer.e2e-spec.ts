import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SystemClock } from '../../src/common/clock.js';
import { DecisionRequestEntity } from '../../src/decisions/decision-request.entity.js';
import { DecisionWriter } from '../../src/decisions/decision-writer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** An allowed repeat by a grant, as DecisionsService builds it. */
function repeatRow(requestId: string, grantId: string): DecisionRequestEntity {
  const now = new Date();
  return Object.assign(new DecisionRequestEntity(), {
    requestId,
    deviceId: 'ct-0042',
    bodyHash: 'b'.repeat(64),
    deviceGroups: ['ct-scanners'],
    action: 'software-install',
    remoteUser: { id: 'fse@acme.example' },
    target: null,
    context: null,
    status: 'allowed',
    reason: 'Allowed by a grant',
    ruleIds: [],
    policyVersion: null,
    approval: null,
    createdAt: now,
    decidedAt: now,
    expiresAt: null,
    validUntil: now,
    completedAt: null,
    outcome: null,
    notifiedAt: null,
    remindedAt: null,
    outcomeNotifiedAt: null,
    grantId,
  });
}

describe('decision writer', () => {
  let t: TestApp;
  let writer: DecisionWriter;
  beforeAll(async () => {
    t = await startTestApp();
    writer = new DecisionWriter(t.database.dataSource, new SystemClock(), 10_000);
  });
  afterAll(async () => {
    await writer?.close();
    await t?.close();
  });

  it('tells every copy of a request in one batch that its grant has ended, so each decides again', async () => {
    const [{ id: grantId }] = await t.database.dataSource.query<{ id: string }[]>(
      `INSERT INTO grants (request_id, device_id, action, remote_user_id, target_key, approved_by, created_at,
         expires_at, ended_at, ended_by)
       VALUES ($1, 'ct-0042', 'software-install', 'fse@acme.example', '{}', '{alice,bob}', now(),
         now() + interval '1 hour', now(), 'carol') RETURNING id`,
      [randomUUID()],
    );
    const requestId = randomUUID();
    const event = { eventType: 'decision', actorType: 'device' as const, requestId };
    const results = await Promise.all([
      writer.write({ row: repeatRow(requestId, grantId), event }),
      writer.write({ row: repeatRow(requestId, grantId), event }),
    ]);
    expect(results).toEqual([
      { inserted: false, grantEnded: true },
      { inserted: false, grantEnded: true },
    ]);
    const stored = await t.database.dataSource.query('SELECT 1 FROM decision_requests WHERE request_id = $1', [
      requestId,
    ]);
    expect(stored).toEqual([]);
  });
});
