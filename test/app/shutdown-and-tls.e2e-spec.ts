import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { connect } from 'node:tls';
import { describe, expect, it } from '@jest/globals';
import { Agent, fetch as undiciFetch } from 'undici';
import { selfSignedCertificate } from '../support/certificates.js';
import { api, startTestApp } from '../support/test-app.js';

describe('graceful shutdown', () => {
  it('finishes the requests in flight, then stops accepting', async () => {
    const t = await startTestApp({ env: { LOGIN_BACKOFF_AFTER: '90', LOGIN_LOCK_AFTER: '100' } });
    const n = 12;
    // Sign-ins take tens of milliseconds (argon2): good requests to be in the middle of.
    const inFlight = Array.from({ length: n }, () =>
      api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'wrong' } }),
    );
    // Each attempt is counted before its password is checked: wait until all are inside.
    const started = async () =>
      (await t.database.dataSource.query(`SELECT failures FROM login_throttle WHERE username = 'account:admin'`))[0]
        ?.failures ?? 0;
    while ((await started()) < n) await new Promise((r) => setTimeout(r, 2));
    const closing = t.close();
    const results = await Promise.all(inFlight);
    await closing;
    expect(results.map((r) => r.status)).toEqual(Array(n).fill(401));
    await expect(fetch(`${t.baseUrl}/health/live`)).rejects.toThrow();
  });
});

describe('graceful shutdown on SIGTERM (stop: drain, then close)', () => {
  it('answers new requests 503 while a request is in flight, then stops listening', async () => {
    const t = await startTestApp();
    const url = new URL(t.baseUrl);
    // A request held in flight: its body is only half sent.
    const body = JSON.stringify({ username: 'admin', password: 'wrong-password' });
    const slow = request({
      host: url.hostname,
      port: url.port,
      path: '/api/v1/auth/login',
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const answerOfSlow = new Promise<number>((resolve, reject) => {
      slow.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      slow.on('error', reject);
    });
    slow.write(body.slice(0, 10));
    while (t.shutdown.requestsInFlight < 1) await new Promise((r) => setImmediate(r));

    const stopping = t.stop(20);
    // A new connection is accepted and answered, not refused.
    const late = await fetch(`${t.baseUrl}/health/ready`);
    expect(late.status).toBe(503);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect(late.headers.get('connection')).toBe('close');

    slow.end(body.slice(10));
    expect(await answerOfSlow).toBe(401); // the request in flight finished normally
    await stopping;
    await expect(fetch(`${t.baseUrl}/health/live`)).rejects.toThrow();
    await t.db.dispose();
  });
});

describe('TLS', () => {
  it('serves HTTPS from certificate files, with TLS 1.2 or newer only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    try {
      const { certFile, keyFile } = selfSignedCertificate(dir, {
        subject: '/CN=localhost',
        altNames: 'IP:127.0.0.1,DNS:localhost',
      });
      const t = await startTestApp({
        env: { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile },
      });
      try {
        const url = t.baseUrl.replace('http:', 'https:');
        const ca = readFileSync(certFile);
        const res = await undiciFetch(`${url}/health/live`, { dispatcher: new Agent({ connect: { ca } }) });
        expect(res.status).toBe(200);
        expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);

        const port = Number(new URL(url).port);
        const old = await new Promise<string>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port, ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
          socket.on('secureConnect', () => resolve(`connected ${socket.getProtocol()}`));
          socket.on('error', (e) => resolve(`refused: ${e.message}`));
        });
        expect(old).toMatch(/^refused/);
      } finally {
        await t.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
