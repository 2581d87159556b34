import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
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

  it('records a batch and queues the audit records of the rows inserted, sealed in batch order, a repeat not again', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const write = (requestId: string) =>
      writer.write({
        row: Object.assign(repeatRow(requestId, randomUUID()), { grantId: null, reason: 'Allowed by rule' }),
        event: { eventType: 'decision', actorType: 'device' as const, requestId },
      });
    expect(await Promise.all(ids.map(write))).toEqual(ids.map(() => ({ inserted: true, grantEnded: false })));
    expect(await write(ids[1])).toEqual({ inserted: false, grantEnded: false });
    // The records are durable in the audit inbox; the sealer chains them (here: the read barrier).
    await t.app.get(AuditService).sealPending();
    const records = await t.database.dataSource.query<{ request_id: string }[]>(
      'SELECT request_id FROM audit_records WHERE request_id = ANY($1::text[]) ORDER BY seq',
      [ids],
    );
    expect(records.map((r) => r.request_id)).toEqual(ids);
    const stored = await t.database.dataSource.query(
      'SELECT 1 FROM decision_requests WHERE request_id = ANY($1::uuid[])',
      [ids],
    );
    expect(stored).toHaveLength(3);
  });

  it('leaves the audit append to the audit module: record_decisions only writes decisions', async () => {
    // One owner per table (src/database/table-owners.ts): the database function decisions
    // calls must not append to the audit chain itself.
    const functions = await t.database.dataSource.query<{ source: string }[]>(
      "SELECT prosrc AS source FROM pg_proc WHERE proname = 'record_decisions'",
    );
    expect(functions).toHaveLength(1);
    expect(functions[0].source).toContain('INSERT INTO decision_requests');
    expect(functions[0].source).not.toContain('audit_append');
  });
});
