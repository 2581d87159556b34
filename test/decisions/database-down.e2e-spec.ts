import { createServer, connect, type Server, type Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp } from '../support/test-app.js';
import { createTestDatabase, testDatabaseKind } from '../support/test-db.js';

/** A TCP proxy in front of PostgreSQL that the test can cut, as a crashed or unreachable server would be. */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private down = false;
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Every connection drops, and new ones are dropped at once. */
  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.down = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('the database goes down under load', () => {
  it('answers 503 (never allow) for decisions it cannot record, and every 200 it gave is in the audit trail', async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error(
        'This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432) to put a proxy in front of',
      );
    }
    const db = await createTestDatabase();
    const direct = new URL(db.env.DATABASE_URL);
    const proxy = new CuttableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    await proxy.start();
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    const t = await startTestApp({
      db: { ...db, env: { DATABASE_URL: viaProxy.toString() } },
      env: { DEVICE_RATE_BURST: '100000', DATABASE_POOL_SIZE: '4' },
    });
    try {
      const admin = await login(t.baseUrl);
      const ct = await enrollDevice(t.baseUrl, admin, { deviceId: 'ct-1', model: 'SOMATOM X', site: 'Main campus' });
      const bodies = Array.from({ length: 300 }, () => decisionBody({ action: 'log-upload' }));
      const results: { requestId: string; status: number; decision?: string; code?: string }[] = [];
      let next = 0;
      const worker = async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          if (next === 100) proxy.cut();
          const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: ct, body }).catch(() => ({
            status: 0,
            body: {} as any,
          }));
          results.push({
            requestId: body.requestId,
            status: res.status,
            decision: res.body?.decision,
            code: res.body?.error?.code,
          });
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));

      const statuses = new Set(results.map((r) => r.status));
      expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
      expect(results.filter((r) => r.status === 503).length).toBeGreaterThan(0);
      expect(results.filter((r) => r.status === 503).every((r) => r.code === 'unavailable')).toBe(true);
      const allowed = results.filter((r) => r.status === 200 && r.decision === 'allow');
      expect(allowed.length).toBeGreaterThan(0);

      // The database is back: every answer that said allow has its durable record.
      proxy.restore();
      const recorded = new Set<string>();
      for (let cursor: string | undefined, page = 0; page < 10; page++) {
        const res = await api(
          t.baseUrl,
          'GET',
          `/api/v1/audit?eventType=decision&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
          {
            token: await login(t.baseUrl),
          },
        );
        for (const r of res.body.items) recorded.add(r.requestId);
        if (!res.body.nextCursor) break;
        cursor = res.body.nextCursor;
      }
      expect(allowed.filter((r) => !recorded.has(r.requestId))).toEqual([]);
    } finally {
      proxy.restore();
      await t.close();
      await proxy.stop();
      await db.dispose();
    }
  }, 60_000);
});
