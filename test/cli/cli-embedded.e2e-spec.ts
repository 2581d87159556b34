import { statSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { adminSocketPath } from '../../src/auth/admin-socket.js';
import { api, ADMIN_PASSWORD, login, startTestApp } from '../support/test-app.js';
import { createEmbeddedTestDatabase } from '../support/test-db.js';
import { runCliProcess } from '../support/cli-process.js';
import { runDoctor } from '../../src/cli/doctor/doctor.js';

describe('the CLI next to a running server on the embedded database', () => {
  it('unlocks an account through the server (the database serves only the server process)', async () => {
    const db = createEmbeddedTestDatabase();
    const t = await startTestApp({ db, env: { LOGIN_BACKOFF_AFTER: '2', LOGIN_LOCK_AFTER: '3' } });
    try {
      // Only the service's user may command the server: the socket is 0600 in a 0700 folder.
      const socket = adminSocketPath({ GATEHOUSE_DATA_DIR: db.env.GATEHOUSE_DATA_DIR });
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      for (let i = 0; i < 3; i++) {
        await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'wrong' } });
      }
      const locked = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
      });
      expect(locked.status).toBe(429);

      const run = await runCliProcess(['user:unlock', 'Admin'], db.env);
      expect(run).toMatchObject({ code: 0, stdout: "'admin' can sign in again.\n" });

      // Doctor does not open the database the server holds: it says so and checks the rest.
      const lines: string[] = [];
      expect(await runDoctor(db.env, (line) => lines.push(line))).toBe(0);
      expect(lines.join('\n')).toMatch(
        /^warning +Database: the embedded database .* is in use by the running Gatehouse/m,
      );
      expect(lines.join('\n')).toMatch(/^ok +Policy set: /m);

      const token = await login(t.baseUrl);
      const audit = await api(t.baseUrl, 'GET', '/api/v1/audit?eventType=user.unlocked', { token });
      expect(audit.body.items[0]).toMatchObject({
        actorId: 'cli',
        details: { username: 'admin', via: 'admin-socket' },
      });
    } finally {
      await t.close();
    }
    try {
      // Stopped: the socket is gone and the CLI opens the database itself.
      const run = await runCliProcess(['user:unlock', 'admin'], db.env);
      expect(run).toMatchObject({ code: 0, stdout: "'admin' had no failed sign-ins.\n" });
      // Stopped: doctor opens it (read-only) and checks it too.
      const lines: string[] = [];
      expect(await runDoctor(db.env, (line) => lines.push(line))).toBe(0);
      expect(lines.join('\n')).toMatch(/^ok +Migrations: all \d+ migrations applied$/m);
    } finally {
      await db.dispose();
    }
  }, 300_000); // three real CLI processes, each compiling the sources: slow on a busy machine
});
