import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { rsyslogOsslModule } from './system-packages.js';
import { waitFor } from './wait-for.js';
import { freePort } from './free-port.js';

export interface Rsyslog {
  port: number;
  /** The messages received so far, one per line as rsyslog wrote them (%rawmsg%: header, SD and body). */
  messages(): string[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Debian's rsyslogd as a real RFC 5425 receiver: imtcp with the OpenSSL stream driver (TLS
 * only), octet-counted frames, every message written to a file in `dir`. Its own config, pid
 * and spool files live in `dir`; the machine's rsyslog is left alone.
 */
export async function startRsyslog(dir: string, tls: { certFile: string; keyFile: string }): Promise<Rsyslog> {
  if (!existsSync('/usr/sbin/rsyslogd') || !existsSync(rsyslogOsslModule())) {
    throw new Error('rsyslog with its OpenSSL driver is needed. Run: apt-get install -y rsyslog rsyslog-openssl');
  }
  const port = await freePort();
  const spool = join(dir, 'spool');
  mkdirSync(spool, { recursive: true });
  const out = join(dir, 'received.log');
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${spool}"
  defaultNetstreamDriver="ossl"
  defaultNetstreamDriverCAFile="${tls.certFile}"
  defaultNetstreamDriverCertFile="${tls.certFile}"
  defaultNetstreamDriverKeyFile="${tls.keyFile}")
module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="${port}")
template(name="raw" type="string" string="%rawmsg%\\n")
action(type="omfile" file="${out}" template="raw")
`,
  );
  let child: ChildProcess | undefined;
  let stderr = '';
  const listening = async () =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true)); // taken: rsyslogd listens
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
  const start = async () => {
    child = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`rsyslogd exited (${code}): ${stderr}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitFor(listening, `rsyslogd listening on ${port}`), exited]);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    await gone;
  };
  await start();
  return {
    port,
    messages: () =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .filter((l) => l.length > 0)
        : [],
    stop,
    start,
  };
}
