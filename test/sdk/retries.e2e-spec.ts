import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GatehouseAgent } from '../../sdk/src/index.js';
import { enrollDevice } from '../support/agent.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { adminQuery, createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-db.js';

/**
 * In front of replica A: passes requests through, and when A starts answering (so after its
 * commit: Gatehouse answers only once the decision is durable), kills A with kill -9 and cuts
 * the agent's connection. For the agent, A died between commit and answer.
 */
function killOnAnswerProxy(
  target: ServerProcess,
): Promise<{ server: Server; url: string; killed: () => Promise<void> | undefined }> {
  let killed: Promise<void> | undefined;
  const server = createServer((client: Socket) => {
    const port = Number(new URL(target.baseUrl).port);
    const upstream = connect(port, '127.0.0.1');
    client.on('data', (chunk) => upstream.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.once('data', () => {
      client.destroy();
      upstream.destroy();
      killed = target.kill9();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}`, killed: () => killed });
    }),
  );
}

/**
 * In front of one Gatehouse, as the network path to its URL: the first time it starts answering
 * (so after its commit), cuts the agent's connection, kills it with kill -9 and starts it again
 * on the same port; from then on passes everything through both ways.
 */
function crashOnceProxy(
  target: ServerProcess,
): Promise<{ server: Server; url: string; crashed: () => Promise<void> | undefined }> {
  let crashed: Promise<void> | undefined;
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(new URL(target.baseUrl).port), '127.0.0.1');
    client.on('data', (chunk) => upstream.write(chunk));
    client.on('error', () => upstream.destroy());
    client.on('end', () => upstream.end());
    upstream.on('error', () => client.destroy());
    upstream.on('end', () => client.end());
    upstream.on('data', (chunk) => {
      if (crashed) {
        client.write(chunk);
        return;
      }
      client.destroy();
      upstream.destroy();
      crashed = target.kill9().then(() => target.restart());
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}`, crashed: () => crashed });
    }),
  );
}

/** In front of a replica: passes requests on and swallows every answer (a hung network path). */
function silentProxy(targetUrl: string): Promise<{ server: Server; url: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(new URL(targetUrl).port), '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}`, sockets });
    }),
  );
}

const auditOf = async (baseUrl: string, admin: string, requestId: string) =>
  (await api(baseUrl, 'GET', `/api/v1/audit?requestId=${requestId}`, { token: admin })).body.items as {
    eventType: string;
    outcome: string;
  }[];

describe('SDK retries when a replica dies between commit and answer', () => {
  let db: TestDatabase;
  let a: ServerProcess;
  let b: TestApp;
  let proxy: Awaited<ReturnType<typeof killOnAnswerProxy>>;

  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error(
        'This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432): replicas share one',
      );
    }
    db = await createTestDatabase();
    b = await startTestApp({ db });
    a = await startServerProcess(db.env);
    proxy = await killOnAnswerProxy(a);
  }, 180_000);
  afterAll(async () => {
    proxy?.server.close();
    await a?.kill9();
    await b?.close();
    await db?.dispose();
  });

  // First: it leaves A running again (restarted), as the next test needs it.
  it('asks again with the same requestId at the same URL after Gatehouse was killed and restarted: one decision', async () => {
    const admin = await login(b.baseUrl);
    const credential = await enrollDevice(b.baseUrl, admin, { deviceId: 'ct-restart', model: 'SOMATOM X.cite' });
    const path = await crashOnceProxy(a);
    try {
      const killed = a.child;
      const agent = new GatehouseAgent({
        urls: [path.url],
        deviceId: 'ct-restart',
        credential,
        timeoutMs: 10_000,
        // Enough rounds (backing off up to 5 s) to outlast the restart on a busy machine.
        attempts: 12,
        backoffMs: 200,
      });
      const requestId = randomUUID();
      const answer = await agent.decide({
        requestId,
        action: 'log-upload',
        remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
      });
      // The process that committed was killed before its answer got out; the retry reached the restarted one.
      expect(path.crashed()).toBeDefined();
      await path.crashed();
      expect(killed.signalCode).toBe('SIGKILL');
      expect(a.child).not.toBe(killed);
      expect(a.child.exitCode).toBeNull();
      expect(answer).toMatchObject({ requestId, decision: 'allow' });
      const rows = await adminQuery<{ status: string }>(
        'SELECT status FROM decision_requests WHERE request_id = $1',
        [requestId],
        db.env.DATABASE_URL,
      );
      expect(rows).toEqual([{ status: answer.status }]);
      const records = await auditOf(a.baseUrl, admin, requestId);
      expect(records.map((r) => r.eventType)).toEqual(['decision']);
      expect(records[0].outcome).toBe(answer.status);
    } finally {
      // Even when the agent gave up: A is back (afterAll stops it), not a process left running.
      await path.crashed()?.catch(() => undefined);
      path.server.close();
    }
  });

  it('asks again with the same requestId on the other replica: the same decision, one record', async () => {
    const admin = await login(b.baseUrl);
    const credential = await enrollDevice(b.baseUrl, admin, { deviceId: 'ct-retry', model: 'SOMATOM X.cite' });
    const failed: { url: string; attempt: number; status?: number }[] = [];
    const agent = new GatehouseAgent({
      urls: [proxy.url, b.baseUrl],
      deviceId: 'ct-retry',
      credential,
      timeoutMs: 10_000,
      onAttemptFailed: ({ url, attempt, status }) => failed.push({ url, attempt, status }),
    });
    const requestId = randomUUID();
    const answer = await agent.decide({
      requestId,
      action: 'log-upload',
      remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical', groups: ['tier2'] },
    });
    // A answered (so had committed) and died: B answered the retry.
    expect(proxy.killed()).toBeDefined();
    await proxy.killed();
    expect(a.child.signalCode).toBe('SIGKILL');
    expect(answer.requestId).toBe(requestId);
    // The agent was told of the failed attempt (no answer from A), then B answered.
    expect(failed).toEqual([{ url: proxy.url, attempt: 0, status: undefined }]);
    const records = await auditOf(b.baseUrl, admin, requestId);
    expect(records.map((r) => r.eventType)).toEqual(['decision']);
    expect(records[0].outcome).toBe(answer.status);
    // A's commit is the one B read: B wrote no second record, and logged the repeat as such.
    expect((await agent.status(requestId)).decision).toBe(answer.decision);
  });

  it('asks again with the same requestId after a time-out: the first decision, one record', async () => {
    const admin = await login(b.baseUrl);
    const credential = await enrollDevice(b.baseUrl, admin, { deviceId: 'ct-timeout', model: 'SOMATOM X.cite' });
    const silent = await silentProxy(b.baseUrl);
    try {
      const agent = new GatehouseAgent({
        urls: [silent.url, b.baseUrl],
        deviceId: 'ct-timeout',
        credential,
        timeoutMs: 1_000,
      });
      const requestId = randomUUID();
      const answer = await agent.decide({
        requestId,
        action: 'log-upload',
        remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical' },
      });
      expect(silent.sockets.size).toBeGreaterThan(0); // the first attempt went through the silent path
      expect(answer).toMatchObject({ requestId, decision: 'allow' });
      expect((await auditOf(b.baseUrl, admin, requestId)).map((r) => r.eventType)).toEqual(['decision']);
    } finally {
      for (const socket of silent.sockets) socket.destroy();
      silent.server.close();
    }
  });
});
