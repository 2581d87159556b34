import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { askPending, createApprovalWorld, installBody, type ApprovalWorld } from '../support/approvers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import { testDatabaseKind } from '../support/test-db.js';

/**
 * A notification delivered while the database cannot record it as sent (here: the outbox
 * table locked past the statement time-out, as in a fail-over) is recorded once the database
 * answers again, and not sent a second time when its lease runs out (HA drill, CI: the
 * approvers got a request's outcome twice, or it stayed "pending").
 */
describe('a notification delivered during a database blip', () => {
  let app: TestApp;
  let w: ApprovalWorld;
  let hook: Server;
  let locker: pg.Client;
  const calls: string[] = [];
  const clock = new TestClock(new Date('2026-11-23T10:00:00Z'));

  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres')
      throw new Error('This test needs PostgreSQL (a lock held from another connection)');
    // The webhook receiver: the first delivery locks the outbox for 2 s before it answers, so
    // the sender's "sent" write times out (statement time-out 500 ms) right after the delivery.
    let locked = false;
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += String(c)));
      req.on('end', () => {
        const { event, requestId } = JSON.parse(body) as { event: string; requestId: string };
        calls.push(`${event} ${requestId}`);
        void (async () => {
          if (!locked) {
            locked = true;
            await locker.query('BEGIN');
            await locker.query('LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE');
            setTimeout(() => void locker.query('COMMIT'), 2000);
          }
          res.writeHead(200).end();
        })();
      });
    });
    hook.listen(0, '127.0.0.1');
    await once(hook, 'listening');
    app = await startTestApp({
      clock,
      env: {
        WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
        WEBHOOK_SECRET: 'webhook-secret-of-at-least-32-characters',
        NOTIFY_RETRY_BASE_SECONDS: '1',
        DATABASE_STATEMENT_TIMEOUT_MS: '500',
      },
    });
    locker = new pg.Client({ connectionString: app.db.env.DATABASE_URL });
    locker.on('error', () => undefined);
    await locker.connect();
    w = await createApprovalWorld(app.baseUrl);
  });
  afterAll(async () => {
    await locker?.end();
    await app?.close();
    hook?.close();
  });

  it('is recorded as sent when the database answers again, and not sent twice', async () => {
    const id = await askPending(app.baseUrl, w.ct, installBody('blip-pkg'));
    const status = async () =>
      (
        await locker.query<{ status: string }>(
          `SELECT status FROM notifications WHERE channel = 'webhook' AND event = 'request.created' AND request_id::text = $1`,
          [id],
        )
      ).rows[0]?.status;
    // Past the outbox's 30 s lease on the test clock: a notification left pending would be sent again.
    for (let i = 0; i < 60 && (await status()) !== 'sent'; i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await status()).toBe('sent');
    for (let i = 0; i < 40; i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(calls.filter((c) => c === `request.created ${id}`)).toHaveLength(1);
  });
});
