/** A local TLS syslog receiver for the forwarding benches. */
import { execFileSync } from 'node:child_process';
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
