import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectReadOnly } from '../../src/cli/doctor/database-session.js';
import { runDoctor } from '../../src/cli/doctor/doctor.js';
import { expiredCertificate, selfSignedCertificate } from '../support/certificates.js';
import { runCliProcess } from '../support/cli-process.js';
import { startSmtpServer, startWebhookReceiver } from '../support/notification-peers.js';
import { frameReceiver } from '../support/syslog-receiver.js';
import { adminQuery, createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-db.js';

/** Runs the doctor command function on an environment, as `npm run gatehouse -- doctor` does. */
async function doctor(env: Record<string, string>) {
  const lines: string[] = [];
  const code = await runDoctor(env, (line) => lines.push(line));
  return { code, output: lines.join('\n') };
}

/** A port on 127.0.0.1 that nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('npm run gatehouse -- doctor', () => {
  let db: TestDatabase;
  let dir: string;
  let good: Record<string, string>;
  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error('This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432)');
    }
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-doctor-'));
    const cert = selfSignedCertificate(dir, { subject: '/CN=gatehouse.test', days: 90 });
    good = {
      ...db.env,
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
      TLS_CERT_FILE: cert.certFile,
      TLS_KEY_FILE: cert.keyFile,
      LOG_LEVEL: 'silent',
    };
  });
  afterAll(async () => {
    await db?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes a good set-up (exit 0), as a real CLI process', async () => {
    const run = await runCliProcess(['doctor'], good);
    expect(run).toMatchObject({ code: 0 }); // on failure, jest shows stdout and stderr too
    expect(run.stdout).toMatch(/^ok +Database durability: fsync and synchronous_commit are on$/m);
    expect(run.stdout).toMatch(/^ok +Migrations: all \d+ migrations applied$/m);
    expect(run.stdout).toMatch(/^ok +TLS certificate: TLS_CERT_FILE .* matches its key and is valid until/m);
    expect(run.stdout).toMatch(/^ok +Clock: /m);
    expect(run.stdout).toMatch(/^skipped +Directory: not configured \(LDAP_URL unset\)/m);
    expect(run.stdout).toMatch(/^0 FAILED, /m);
  });

  it('names a bad configuration variable', async () => {
    const { code, output } = await doctor({ ...good, DATABASE_POOL_SIZE: 'many' });
    expect(code).toBe(1);
    expect(output).toMatch(
      /^FAILED +Configuration: DATABASE_POOL_SIZE: expected a whole number .*What to do: correct DATABASE_POOL_SIZE/m,
    );
  });

  it('names a certificate file that is not a certificate', async () => {
    const bad = join(dir, 'not-a-cert.pem');
    writeFileSync(bad, 'this is not a certificate\n');
    const { code, output } = await doctor({ ...good, TLS_CERT_FILE: bad });
    expect(code).toBe(1);
    expect(output).toMatch(
      /^FAILED +TLS certificate: TLS_CERT_FILE \(.*not-a-cert\.pem\) is not a readable PEM certificate/m,
    );
  });

  it("names an expired certificate, and a key that is not the certificate's", async () => {
    const expired = expiredCertificate(dir);
    const run = await doctor({ ...good, TLS_CERT_FILE: expired.certFile, TLS_KEY_FILE: expired.keyFile });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      /^FAILED +TLS certificate: TLS_CERT_FILE \(.*expired\.pem\) expired on 2024-02-01T00:00:00\.000Z.*What to do: install a renewed certificate/m,
    );
    const mismatch = await doctor({ ...good, TLS_KEY_FILE: expired.keyFile });
    expect(mismatch.code).toBe(1);
    expect(mismatch.output).toMatch(
      /^FAILED +TLS certificate: the key in TLS_KEY_FILE .* does not belong to the certificate/m,
    );
  });

  it('names a directory that is down', async () => {
    const port = await closedPort();
    const { code, output } = await doctor({
      ...good,
      LDAP_URL: `ldap://127.0.0.1:${port}`,
      LDAP_BIND_DN: 'CN=svc-gatehouse,OU=Service,DC=hospital,DC=local',
      LDAP_BIND_PASSWORD: 'not-used',
      LDAP_BASE_DN: 'DC=hospital,DC=local',
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(`^FAILED +Directory: LDAP_URL: cannot reach ldap://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`, 'm'),
    );
    expect(output).toMatch(/^warning +Directory sync: no directory sync has run yet/m);
  });

  it('reaches the SMTP server, webhook and SIEM receiver configured, sending nothing, and names those that are down', async () => {
    const smtp = await startSmtpServer();
    const hook = await startWebhookReceiver(0);
    const siem = frameReceiver();
    const siemPort = await closedPort();
    await siem.listen(siemPort);
    const peers = (smtpPort: number, webhookUrl: string, syslogPort: number) => ({
      ...good,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      SMTP_ALLOW_PLAINTEXT: 'true',
      PUBLIC_URL: 'https://gatehouse.test',
      WEBHOOK_URL: webhookUrl,
      WEBHOOK_SECRET: 'a-webhook-secret-of-32-characters!',
      AUDIT_FORWARD_URLS: `syslog+tcp://127.0.0.1:${syslogPort}?format=json,syslog+udp://127.0.0.1:${syslogPort}`,
    });
    try {
      const up = await doctor(peers(smtp.port, hook.url, siemPort));
      expect(up.output).toMatch(/^ok +E-mail \(SMTP\): SMTP_URL \(smtp:\/\/127\.0\.0\.1:\d+\) answered EHLO$/m);
      expect(up.output).toMatch(/^ok +Webhook: WEBHOOK_URL \(http:\/\/127\.0\.0\.1:\d+\) answered \(HTTP 204\)$/m);
      expect(up.output).toMatch(
        /^ok +SIEM forwarding: receiver syslog\+tcp:\/\/127\.0\.0\.1:\d+\?format=json .* accepts connections$/m,
      );
      expect(up.output).toMatch(/^skipped +SIEM forwarding: receiver syslog\+udp:/m);
      expect(up.code).toBe(0);
      expect(smtp.mails).toEqual([]);
      expect(siem.messages).toEqual([]);
    } finally {
      await Promise.all([smtp.close(), hook.close(), siem.close()]);
    }
    const down = await doctor(peers(smtp.port, hook.url, siemPort));
    expect(down.code).toBe(1);
    expect(down.output).toMatch(
      /^FAILED +E-mail \(SMTP\): SMTP_URL .*ECONNREFUSED.*What to do: check the host and port in SMTP_URL/m,
    );
    expect(down.output).toMatch(/^FAILED +Webhook: WEBHOOK_URL .* cannot be reached: .*ECONNREFUSED/m);
    expect(down.output).toMatch(
      /^FAILED +SIEM forwarding: receiver syslog\+tcp:.* in AUDIT_FORWARD_URLS cannot be reached: .*ECONNREFUSED/m,
    );
  });

  it('names PostgreSQL that may lose commits', async () => {
    // fsync is server-wide; synchronous_commit, the same check's other half, can be set per database.
    const name = new URL(db.env.DATABASE_URL).pathname.slice(1);
    await adminQuery(`ALTER DATABASE ${name} SET synchronous_commit = off`);
    try {
      const { code, output } = await doctor(good);
      expect(code).toBe(1);
      expect(output).toMatch(
        /^FAILED +Database durability: PostgreSQL has synchronous_commit=off.*What to do: turn fsync and synchronous_commit on/m,
      );
      const lab = await doctor({ ...good, GATEHOUSE_ALLOW_UNSAFE_DURABILITY: 'true' });
      expect(lab.output).toMatch(/^warning +Database durability: .*allowed by GATEHOUSE_ALLOW_UNSAFE_DURABILITY/m);
      expect(lab.code).toBe(0);
    } finally {
      await adminQuery(`ALTER DATABASE ${name} RESET synchronous_commit`);
    }
  });

  it('names a missing role and an unreachable database', async () => {
    const url = new URL(db.env.DATABASE_URL);
    url.username = 'gatehouse_no_such_role';
    const missing = await doctor({ ...good, DATABASE_URL: url.toString() });
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(
      /^FAILED +Database: cannot connect to DATABASE_URL: role "gatehouse_no_such_role" does not exist\. What to do: create that role/m,
    );
    const port = await closedPort();
    const down = await doctor({ ...good, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/gatehouse` });
    expect(down.code).toBe(1);
    expect(down.output).toMatch(
      /^FAILED +Database: cannot connect to DATABASE_URL: connect ECONNREFUSED.*What to do: start PostgreSQL/m,
    );
  });

  it('lists a pending migration and does not run it (doctor changes nothing)', async () => {
    const [last] = await adminQuery<{ id: number; timestamp: string; name: string }>(
      'SELECT id, timestamp, name FROM gatehouse_migrations ORDER BY id DESC LIMIT 1',
      [],
      db.env.DATABASE_URL,
    );
    await adminQuery('DELETE FROM gatehouse_migrations WHERE id = $1', [last.id], db.env.DATABASE_URL);
    try {
      const { code, output } = await doctor(good);
      expect(output).toContain(`warning Migrations: 1 migration(s) not applied yet: ${last.name}. What to do:`);
      expect(code).toBe(0); // the server applies it at start: a warning
      const rows = await adminQuery(
        'SELECT 1 FROM gatehouse_migrations WHERE name = $1',
        [last.name],
        db.env.DATABASE_URL,
      );
      expect(rows).toEqual([]);
      // Doctor's session is read-only: PostgreSQL itself refuses a write on it.
      const session = await connectReadOnly(db.env.DATABASE_URL);
      try {
        await expect(session.query('CREATE TABLE doctor_wrote (a int)')).rejects.toThrow(/read-only transaction/);
      } finally {
        await session.destroy();
      }
    } finally {
      await adminQuery(
        'INSERT INTO gatehouse_migrations (id, timestamp, name) VALUES ($1, $2, $3)',
        [last.id, last.timestamp, last.name],
        db.env.DATABASE_URL,
      );
    }
  });
});
