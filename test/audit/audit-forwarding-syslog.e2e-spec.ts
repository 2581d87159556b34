import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditService } from '../../src/audit/audit.service.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { startRsyslog, type Rsyslog } from '../support/rsyslog.js';
import { freePort } from '../support/free-port.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** What the test reads back from one forwarded CEF message. */
interface Received {
  eventType: string;
  seq: number;
  prevHash?: string;
  hash: string;
  line: string;
}

const cefField = (line: string, key: string) => new RegExp(`(?:^|[ |])${key}=((?:\\\\.|[^\\\\ ])*)`).exec(line)?.[1];

function parse(line: string): Received {
  const cef = line.slice(line.indexOf('CEF:0|'));
  const header = cef.split('|');
  const seq = Number(cefField(cef, 'cn1'));
  return { eventType: header[4], seq, prevHash: cefField(cef, 'cs1'), hash: cefField(cef, 'cs2')!, line };
}

describe('SIEM forwarding: CEF over syslog TLS to rsyslog', () => {
  let dir: string;
  let rsyslog: Rsyslog;
  let impostor: TlsServer;
  let impostorConnections = 0;
  let impostorUrl: string;
  let rsyslogUrl: string;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-rsyslog-'));
    const cert = selfSignedCertificate(dir, { subject: '/CN=localhost', altNames: 'DNS:localhost,IP:127.0.0.1' });
    rsyslog = await startRsyslog(dir, cert);
    // A receiver whose certificate no configured CA issued.
    const wrong = selfSignedCertificate(dir, { subject: '/CN=localhost', altNames: 'DNS:localhost', name: 'wrong' });
    const { readFileSync } = await import('node:fs');
    impostor = createTlsServer({ cert: readFileSync(wrong.certFile), key: readFileSync(wrong.keyFile) }, (s) => {
      impostorConnections++;
      s.destroy();
    });
    const impostorPort = await freePort();
    await new Promise<void>((resolve) => impostor.listen(impostorPort, '127.0.0.1', resolve));
    rsyslogUrl = `syslog+tls://localhost:${rsyslog.port}`;
    impostorUrl = `syslog+tls://localhost:${impostorPort}?format=cef`;
    t = await startTestApp({
      env: {
        AUDIT_CHECKPOINT_MINUTES: '0',
        AUDIT_FORWARD_URLS: `${rsyslogUrl},${impostorUrl}`,
        AUDIT_FORWARD_CA_FILE: cert.certFile,
      },
    });
    token = await login(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    await rsyslog?.stop();
    await new Promise((resolve) => (impostor ? impostor.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const append = (n: number, tag: string) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.app.get(AuditService).append({ eventType: 'test.event', actorType: 'system', details: { tag, i } }),
      ),
    );
  const head = async () =>
    Number((await t.database.dataSource.query('SELECT max(seq) AS s FROM audit_records'))[0].s as string);
  const received = () => rsyslog.messages().map(parse);
  const receiverStatus = async (url: string) => {
    const res = await api(t.baseUrl, 'GET', '/api/v1/audit/forwarding', { token });
    expect(res.status).toBe(200);
    return (res.body.receivers as any[]).find((r) => r.url.startsWith(url.split('?')[0]));
  };
  /** No gap and in order: the seqs in first-arrival order run 1, 2, 3… (a resend repeats a tail, at least once). */
  const expectWholeChainInOrder = (upTo: number) => {
    const records = received().filter((r) => r.eventType !== 'audit.checkpoint');
    const firstSeen: Received[] = [];
    const seen = new Set<number>();
    for (const r of records) {
      if (!seen.has(r.seq)) {
        seen.add(r.seq);
        firstSeen.push(r);
      }
    }
    expect(firstSeen.map((r) => r.seq)).toEqual(Array.from({ length: upTo }, (_, i) => i + 1));
    // Each record names its predecessor's hash: a SIEM sees a removed or altered record.
    for (let i = 1; i < firstSeen.length; i++) expect(firstSeen[i].prevHash).toBe(firstSeen[i - 1].hash);
    return records.length - firstSeen.length;
  };

  it('sends every record as CEF over TLS, in order, with its seq and previous hash, and the signed checkpoints', async () => {
    await append(20, 'first');
    const cp = await api(t.baseUrl, 'POST', '/api/v1/audit/checkpoints', { token });
    expect(cp.status).toBe(200);
    const last = await head();
    await waitFor(() => received().some((r) => r.eventType === 'audit.checkpoint'), 'the checkpoint at rsyslog');
    expectWholeChainInOrder(last);
    const checkpoint = received().find((r) => r.eventType === 'audit.checkpoint')!;
    expect(checkpoint).toMatchObject({ seq: cp.body.seq, hash: cp.body.hash });
    expect(checkpoint.line).toContain(`cs3Label=keyId cs3=${cp.body.keyId}`);
    // RFC 5424 header and structured data as rsyslog received them.
    const one = received().find((r) => r.eventType === 'test.event')!;
    expect(one.line).toMatch(
      new RegExp(
        `^<110>1 \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\S+ gatehouse \\d+ test\\.event \\[gatehouse@32473 seq="${one.seq}" `,
      ),
    );
    expect(one.line).toContain(
      `CEF:0|Gatehouse|Gatehouse|1|test.event|test.event|3|rt=${one.line.match(/rt=(\d+)/)![1]} externalId=${one.seq} `,
    );
    expect(one.line).toContain('msg={"i":');

    await waitFor(
      async () => (await receiverStatus(rsyslogUrl)).lastCheckpointSeq === cp.body.seq,
      'the checkpoint confirmed',
    );
    const status = await receiverStatus(rsyslogUrl);
    expect(status).toMatchObject({ lastForwardedSeq: last, lastCheckpointSeq: cp.body.seq, failingSince: null });
  });

  it('gives a receiver that was down the backlog, in order, with no gap', async () => {
    await rsyslog.stop();
    await append(30, 'while down');
    await waitFor(async () => (await receiverStatus(rsyslogUrl)).failingSince !== null, 'the failure in the status');
    const down = await receiverStatus(rsyslogUrl);
    expect(down.lastError).toMatch(/ECONNREFUSED|connect/);
    expect(down.lag).toBeGreaterThanOrEqual(30);
    const ready = await api(t.baseUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200); // forwarding never fails readiness…
    expect(ready.body.checks.forwarding).toContainEqual(
      expect.objectContaining({ url: down.url, lag: down.lag, lastError: down.lastError }),
    ); // …but shows it

    await rsyslog.start();
    await append(10, 'after restart');
    const last = await head();
    await waitFor(
      async () => (await receiverStatus(rsyslogUrl)).lastForwardedSeq === last,
      'the backlog forwarded',
      45_000,
    );
    await waitFor(() => received().filter((r) => r.seq === last).length > 0, 'the last record at rsyslog');
    const duplicates = expectWholeChainInOrder(last);
    expect(duplicates).toBeLessThanOrEqual(1000); // at least once: at most a resent batch
    expect((await receiverStatus(rsyslogUrl)).failingSince).toBeNull();
  });

  it('refuses a receiver whose certificate no configured CA issued, and shows why', async () => {
    await waitFor(async () => (await receiverStatus(impostorUrl))?.lastError !== null, 'the impostor failure');
    const status = await receiverStatus(impostorUrl);
    expect(status.lastError).toMatch(/certificate/i);
    expect(status.lastForwardedSeq).toBe(0);
    expect(status.lag).toBe(await head());
    expect(impostorConnections).toBe(0); // the handshake never completed: nothing was sent
  });
});
