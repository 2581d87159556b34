/** A local TLS syslog receiver for the forwarding benches. */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';

/** A TLS syslog receiver that counts octet-counted frames, checking each length. */
export async function countingReceiver(
  dir: string,
): Promise<{ server: Server; port: number; ca: Buffer; caFile: string; count: () => number }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat([
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]),
    { stdio: 'pipe' },
  );
  let frames = 0;
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (socket) => {
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      for (;;) {
        const space = pending.indexOf(0x20, at);
        if (space < 0) break;
        const length = Number(pending.toString('ascii', at, space));
        if (!Number.isInteger(length) || length <= 0) throw new Error('bad frame');
        if (pending.length < space + 1 + length) break;
        frames++;
        at = space + 1 + length;
      }
      pending = pending.subarray(at);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    ca: readFileSync(cert),
    caFile: cert,
    count: () => frames,
  };
}

/**
 * countingReceiver in a child process (syslog-receiver-child.ts): its count as last reported
 * (every 50 ms), and stop().
 */
export async function receiverProcess(
  dir: string,
): Promise<{ port: number; caFile: string; count: () => number; stop: () => void }> {
  const child = fork(new URL('./syslog-receiver-child.js', import.meta.url), [dir], { stdio: 'inherit' });
  let count = 0;
  const started = await new Promise<{ port: number; caFile: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the receiver process exited (${code})`)));
    child.on('message', (m: { port?: number; caFile?: string; count?: number }) => {
      if (m.count !== undefined) count = m.count;
      else resolve(m as { port: number; caFile: string });
    });
  });
  return { ...started, count: () => count, stop: () => child.kill() };
}
