import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { freePort } from '../support/free-port.js';
import { frameReceiver, type FrameReceiver } from '../support/syslog-receiver.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { TestClock } from '../support/test-clock.js';
import {
  createEmbeddedTestDatabase,
  createTestDatabase,
  testDatabaseKind,
  type TestDatabase,
} from '../support/test-db.js';
import { waitFor } from '../support/wait-for.js';

const HEC_TOKEN = '6a1f6c3e-5f0b-4b55-9d1a-hec-test-token';

const appendMany = (t: TestApp, n: number, tag: string) =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      t.app.get(AuditService).append({ eventType: 'test.event', actorType: 'system', details: { tag, i } }),
    ),
  );
const head = async (t: TestApp) =>
  Number((await t.database.dataSource.query('SELECT max(seq) AS s FROM audit_records'))[0].s as string);
const forwarding = async (t: TestApp, token: string) => {
  const res = await api(t.baseUrl, 'GET', '/api/v1/audit/forwarding', { token });
  expect(res.status).toBe(200);
  return res.body.receivers[0];
};

describe('SIEM forwarding: Splunk-HEC-shaped HTTPS receiver', () => {
  let dir: string;
  let hec: HttpsServer;
  const posts: { authorization?: string; path?: string; events: any[] }[] = [];
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-hec-'));
    const cert = selfSignedCertificate(dir, { subject: '/CN=localhost', altNames: 'DNS:localhost,IP:127.0.0.1' });
    hec = createHttpsServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        // HEC's body: JSON objects one after another.
        const events = body.length ? body.split('\n').map((l) => JSON.parse(l)) : [];
        posts.push({ authorization: req.headers.authorization, path: req.url, events });
        const ok = req.headers.authorization === `Splunk ${HEC_TOKEN}`;
        res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
        res.end(ok ? '{"text":"Success","code":0}' : '{"text":"Invalid token","code":4}');
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => hec.listen(port, '127.0.0.1', resolve));
    t = await startTestApp({
      env: {
        AUDIT_FORWARD_URLS: `https://localhost:${port}/services/collector`,
        AUDIT_FORWARD_CA_FILE: cert.certFile,
        AUDIT_FORWARD_HEC_TOKEN: HEC_TOKEN,
      },
    });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => (hec ? hec.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('POSTs JSON events with the token header, every record once, in order, with seq and prevHash', async () => {
    await appendMany(t, 50, 'hec');
    const last = await head(t);
    await waitFor(async () => (await forwarding(t, token)).lastForwardedSeq === last, 'everything forwarded');
    expect(posts.every((p) => p.authorization === `Splunk ${HEC_TOKEN}` && p.path === '/services/collector')).toBe(
      true,
    );
    const events = posts.flatMap((p) => p.events);
    expect(events.map((e) => e.event.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const sample = events.find((e) => e.event.eventType === 'test.event');
    expect(sample).toMatchObject({ source: 'gatehouse', sourcetype: 'gatehouse:audit', time: expect.any(Number) });
    expect(Object.keys(sample.event)).toEqual(expect.arrayContaining(['seq', 'prevHash', 'hash', 'details']));
    for (let i = 1; i < events.length; i++) expect(events[i].event.prevHash).toBe(events[i - 1].event.hash);
    expect((await forwarding(t, token)).url).toBe(
      `https://localhost:${(hec.address() as any).port}/services/collector`,
    );
  });
});

describe('SIEM forwarding: a receiver that accepts and never reads', () => {
  let hung: Server;
  const held: Socket[] = [];
  let t: TestApp;
  let token: string;
  let credential: string;

  beforeAll(async () => {
    hung = createServer((socket) => {
      socket.pause(); // never reads: the forwarder's writes fill the buffers and stall
      held.push(socket);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => hung.listen(port, '127.0.0.1', resolve));
    t = await startTestApp({ env: { AUDIT_FORWARD_URLS: `syslog+tcp://127.0.0.1:${port}` } });
    token = await login(t.baseUrl);
    credential = await enrollDevice(t.baseUrl, token, { deviceId: 'ct-1', model: 'SOMATOM X' });
  });
  afterAll(async () => {
    await t?.close();
    for (const s of held) s.destroy();
    await new Promise((resolve) => (hung ? hung.close(resolve) : resolve(undefined)));
  });

  it('still answers decisions while the forwarder is stuck writing, and then shows the time-out', async () => {
    // Far more than the loopback buffers hold (~700 bytes a record).
    for (let i = 0; i < 10; i++) await appendMany(t, 2_000, 'flood');
    await waitFor(() => held.length > 0, 'the forwarder connected');
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${t.baseUrl}/api/v1/agent/decisions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
        body: JSON.stringify(decisionBody({ action: 'log-upload' })),
        signal: AbortSignal.timeout(5_000), // a decision held up by forwarding fails here
      });
      expect(res.status).toBe(200);
      expect((await res.json()).decision).toBe('allow');
    }
    await waitFor(async () => /timed out/.test((await forwarding(t, token)).lastError ?? ''), 'the write time-out');
    const status = await forwarding(t, token);
    expect(status.lag).toBeGreaterThan(0);
    expect(status.failingSince).not.toBeNull();
  });
});

describe('SIEM forwarding: failing longer than AUDIT_FORWARD_ALERT_MINUTES', () => {
  let receiver: FrameReceiver;
  let port: number;
  const clock = new TestClock();
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    receiver = frameReceiver();
    port = await freePort(); // nothing listens there yet
    t = await startTestApp({
      clock,
      env: { AUDIT_FORWARD_URLS: `syslog+tcp://127.0.0.1:${port}?format=json`, AUDIT_FORWARD_ALERT_MINUTES: '1' },
    });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const count = async (eventType: string) =>
    Number(
      (
        await t.database.dataSource.query('SELECT count(*) AS n FROM audit_records WHERE event_type = $1', [eventType])
      )[0].n as string,
    );

  it('records audit.forwarding.failing once, and audit.forwarding.recovered when the receiver is back', async () => {
    await appendMany(t, 3, 'before');
    await waitFor(async () => (await forwarding(t, token)).failingSince !== null, 'the first failure');
    expect(await count('audit.forwarding.failing')).toBe(0);

    clock.advance(61_000);
    await waitFor(async () => (await count('audit.forwarding.failing')) === 1, 'audit.forwarding.failing');
    const alertedAt = (await forwarding(t, token)).lastErrorAt;
    clock.advance(1_000); // the next attempt's failure has a later time
    await waitFor(async () => (await forwarding(t, token)).lastErrorAt !== alertedAt, 'another failed attempt');
    expect(await count('audit.forwarding.failing')).toBe(1); // once per failure, not per attempt

    await receiver.listen(port);
    await waitFor(async () => (await count('audit.forwarding.recovered')) === 1, 'audit.forwarding.recovered');
    const last = await head(t);
    await waitFor(async () => (await forwarding(t, token)).lastForwardedSeq === last, 'everything forwarded');
    await waitFor(
      () => receiver.messages.some((m) => m.includes('audit.forwarding.recovered')),
      'the recovery at the SIEM',
    );
    expect(receiver.errors).toEqual([]);
    // JSON bodies after the RFC 5424 header and structured data; the failing record carries the reason.
    const bodies = receiver.messages.map((m) => JSON.parse(m.slice(m.indexOf('] ') + 2)));
    const failing = bodies.find((b) => b.eventType === 'audit.forwarding.failing');
    expect(failing.details).toMatchObject({ receiver: `syslog+tcp://127.0.0.1:${port}?format=json` });
    expect(failing.details.lastError).toMatch(/ECONNREFUSED/);
    expect(new Set(bodies.map((b) => b.seq)).size).toBe(last);
  });
});

describe('SIEM forwarding: a receiver that loses what it was sent', () => {
  let receiver: FrameReceiver;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    receiver = frameReceiver({ crashFirst: true });
    const port = await freePort();
    await receiver.listen(port);
    t = await startTestApp({ env: { AUDIT_FORWARD_URLS: `syslog+tcp://127.0.0.1:${port}?format=json` } });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('sends again what was written on a connection that closed soon after (at least once, no gap)', async () => {
    await appendMany(t, 20, 'lost once');
    const last = await head(t);
    await waitFor(async () => (await forwarding(t, token)).lastForwardedSeq === last, 'everything forwarded');
    const seqs = receiver.messages.map((m) => JSON.parse(m.slice(m.indexOf('] ') + 2)).seq as number);
    expect([...new Set(seqs)].sort((a, b) => a - b)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(receiver.errors).toEqual([]);
  });
});

describe('SIEM forwarding on two replicas', () => {
  let receiver: FrameReceiver;
  let db: TestDatabase;
  let a: TestApp | undefined;
  let b: TestApp;

  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') throw new Error('This test needs PostgreSQL: replicas share one');
    receiver = frameReceiver();
    const port = await freePort();
    await receiver.listen(port);
    db = await createTestDatabase();
    const env = { AUDIT_FORWARD_URLS: `syslog+tcp://127.0.0.1:${port}?format=json` };
    a = await startTestApp({ db, env });
    b = await startTestApp({ db, env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.dispose();
    await receiver?.close();
  });

  const receivedSeqs = () => receiver.messages.map((m) => JSON.parse(m.slice(m.indexOf('] ') + 2)).seq as number);

  it('forwards from one replica per receiver (advisory lock), and the other takes over when it stops', async () => {
    await appendMany(a!, 20, 'replica a');
    let last = await head(b);
    await waitFor(() => receivedSeqs().includes(last), 'the records at the receiver');
    expect(receiver.connections).toBe(1);
    expect(receivedSeqs()).toEqual(Array.from({ length: last }, (_, i) => i + 1)); // each once: one forwarder

    await a!.close();
    a = undefined;
    await appendMany(b, 5, 'replica b');
    last = await head(b);
    await waitFor(() => receivedSeqs().includes(last), 'the records forwarded by the remaining replica');
    expect(new Set(receivedSeqs()).size).toBe(last);
  });
});

describe('SIEM forwarding over UDP (labs)', () => {
  let udp: UdpSocket;
  const datagrams: string[] = [];
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    udp = createSocket('udp4');
    udp.on('message', (m) => datagrams.push(m.toString('utf8')));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    t = await startTestApp({ env: { AUDIT_FORWARD_URLS: `syslog+udp://127.0.0.1:${udp.address().port}` } });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    udp?.close();
  });

  it('sends one RFC 5424 message per datagram, unframed, CEF by default', async () => {
    await appendMany(t, 5, 'udp');
    const last = await head(t);
    await waitFor(async () => (await forwarding(t, token)).lastForwardedSeq === last, 'everything sent');
    await waitFor(() => datagrams.length >= last, 'the datagrams');
    expect(datagrams[0]).toMatch(/^<110>1 \S+ \S+ gatehouse \d+ \S+ \[gatehouse@32473 seq="1" prevHash="0{64}" /);
    expect(datagrams.map((d) => Number(/ cn1=(\d+)/.exec(d)![1]))).toEqual(
      Array.from({ length: last }, (_, i) => i + 1),
    );
  });

  it('formats and sends on a thread of its own, at the lower priority AUDIT_FORWARD_NICE (10 by default)', () => {
    // Linux keeps a nice value per thread (/proc/self/task/<tid>/stat, field 19): the transport
    // thread has lowered its own, so the thread that answers decisions keeps the CPU first.
    const niceOf = (tid: string) =>
      Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const nices = readdirSync('/proc/self/task').map(niceOf);
    expect(niceOf(String(process.pid))).toBe(0);
    expect(nices.filter((n) => n === 10)).toHaveLength(1);
  });
});

describe('SIEM forwarding on the embedded database', () => {
  let receiver: FrameReceiver;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    receiver = frameReceiver();
    const port = await freePort();
    await receiver.listen(port);
    t = await startTestApp({
      db: createEmbeddedTestDatabase(),
      env: { AUDIT_FORWARD_URLS: `syslog+tcp://127.0.0.1:${port}?format=json` },
    });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    await t?.db.dispose();
    await receiver?.close();
  });

  it('forwards from the one process (no lock to take), every record in order', async () => {
    expect(t.database.kind).toBe('embedded');
    await appendMany(t, 10, 'embedded');
    const last = await head(t);
    await waitFor(async () => (await forwarding(t, token)).lastForwardedSeq === last, 'everything forwarded');
    const seqs = receiver.messages.map((m) => JSON.parse(m.slice(m.indexOf('] ') + 2)).seq as number);
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  });
});
