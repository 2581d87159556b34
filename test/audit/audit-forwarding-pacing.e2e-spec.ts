import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendBulkRecords } from '../../bench/audit-bulk.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { ForwardLease } from '../../src/audit/forwarding/forward-lease.js';
import { BATCH_SIZE, BUSY_PAUSE_MS, ReceiverForwarder } from '../../src/audit/forwarding/receiver-forwarder.js';
import { TransportThread } from '../../src/audit/forwarding/transport-thread.js';
import { AuditSealer } from '../../src/audit/sealer/audit-sealer.js';
import { SystemClock } from '../../src/common/clock.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { freePort } from '../support/free-port.js';
import { frameReceiver, type FrameReceiver } from '../support/syslog-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A catch-up (a receiver far behind) sends batch after batch with no wait, except while the
 * thread that answers decisions is busy (its event-loop utilisation over 0.8 since the last
 * batch): then it waits BUSY_PAUSE_MS between batches, leaving the CPU to the decisions.
 * The utilisation is given here, so the test does not depend on the machine's load.
 */
describe('SIEM forwarding: a catch-up yields to busy decisions', () => {
  let db: TestDatabase;
  let database: Database;
  let receiver: FrameReceiver;
  let port: number;
  const forwarders: ReceiverForwarder[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    database = await Database.open(loadConfig({ ...db.env, LOG_LEVEL: 'silent' }), { migrate: false });
    await appendBulkRecords((sql, params) => database.dataSource.query(sql, params), 3 * BATCH_SIZE, new Date());
    receiver = frameReceiver();
    port = await freePort();
    await receiver.listen(port);
  });
  afterAll(async () => {
    for (const f of forwarders) await f.stop();
    await receiver?.close();
    await database?.close();
    await db?.dispose();
  });

  const forwarder = (name: string, busy: number) => {
    const clock = new SystemClock();
    const f = new ReceiverForwarder(
      name,
      new TransportThread(
        { receiver: { kind: 'syslog', transport: 'tcp', host: '127.0.0.1', port, format: 'json', name } },
        0,
      ),
      new ForwardLease(database.dataSource, database.kind === 'embedded', name),
      new AuditService(database.dataSource, clock, new AuditSealer(database.dataSource)),
      clock,
      15 * 60_000,
      () => busy,
    );
    forwarders.push(f);
    return f;
  };

  it('waits between full batches while decisions keep the event loop busy', async () => {
    const f = forwarder(`syslog+tcp://127.0.0.1:${port}?format=json&busy`, 0.95);
    expect(await f.round()).toBe(BUSY_PAUSE_MS);
    await waitFor(() => receiver.messages.length >= BATCH_SIZE, 'the first batch');
  });

  it('sends the next batch at once while they leave it time', async () => {
    const f = forwarder(`syslog+tcp://127.0.0.1:${port}?format=json&idle`, 0.3);
    expect(await f.round()).toBe(0);
  });
});
