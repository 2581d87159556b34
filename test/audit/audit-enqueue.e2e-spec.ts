import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { normalizeEvent, type AuditEvent } from '../../src/audit/audit-chain.js';
import { fromRow, type AuditRow } from '../../src/audit/audit-row.js';
import { verifyAuditChain } from '../../src/audit/audit-verifier.js';
import { contentLines } from '../../src/audit/audit-writer.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// audit_enqueue (migrations AuditInbox, AuditEnqueueParseOnce) fills audit_inbox's columns from
// each record's content JSON, and the sealer copies them into the chain: a column lost,
// swapped or shifted there would put wrong values in audit_records (search, exports) and fail
// verify. Every field below differs from every other, so any such mistake shows.
const EVENTS: AuditEvent[] = [
  {
    eventType: 'enqueue.test',
    actorType: 'device',
    actorId: 'actor-1',
    deviceId: 'device-2',
    action: 'action-3',
    remoteUser: 'user-4 "quoted" \\ back',
    outcome: 'outcome-5',
    ruleIds: ['rule-6a', 'rule-6b'],
    policyVersion: 'policy-7',
    approvers: ['approver-8a', 'approver-8b', 'approver-8c'],
    sourceAddress: '10.0.0.9',
    requestId: 'request-10',
    details: { nested: { list: [1, 'two', null], é: 'ünïcode' }, n: 11 },
  },
  // Nulls and empty lists where the first has values: a column taken from its neighbour shows.
  { eventType: 'enqueue.test.2', actorType: 'system', ruleIds: [], approvers: [], details: {} },
  { eventType: 'enqueue.test.3', actorType: 'user', actorId: 'only-actor', ruleIds: ['r'], details: { k: 'v' } },
];

describe.each(['postgres', 'embedded'] as const)('audit_enqueue on %s', (kind) => {
  let db: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    database = await Database.open(loadConfig({ ...db.env, LOG_LEVEL: 'silent' }), { migrate: true });
  });
  afterAll(async () => {
    await database?.close();
    await db?.dispose();
  });

  it('queues every column of each record, in order, and the sealed chain holds them and verifies', async () => {
    const events = EVENTS.map(normalizeEvent);
    const recordedAt = new Date('2026-12-07T10:11:12.345Z');
    const [queued] = await database.dataSource.query<{ n: string }[]>(
      "SELECT audit_enqueue(string_to_array($1, E'\\n'), $2) AS n",
      [contentLines(events), recordedAt.toISOString()],
    );
    expect(Number(queued.n)).toBe(events.length);
    const [sealed] = await database.dataSource.query<{ n: number }[]>('SELECT audit_seal(100, true) AS n');
    expect(sealed.n).toBe(events.length);

    const rows = await database.dataSource.query<AuditRow[]>(
      "SELECT * FROM audit_records WHERE event_type LIKE 'enqueue.test%' ORDER BY seq",
    );
    expect(rows.map(fromRow)).toEqual(events.map((e) => expect.objectContaining({ ...e, recordedAt })));
    expect(await verifyAuditChain(database.dataSource)).toMatchObject({ ok: true });
  });
});
