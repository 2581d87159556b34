import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { freePort } from '../support/free-port.js';
import { api, ADMIN_PASSWORD, login, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-db.js';
import { waitFor } from '../support/wait-for.js';

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();

/**
 * The previous version's code serving on this version's schema while this one runs next to it
 * (docs/upgrades.md: a migration stays backward compatible for one version). There has been no
 * release yet, so "the previous version" is the code just before the newest migration came
 * (from git's history), run from a worktree on the database that this code migrated.
 */
describe("the previous version's code on this version's schema", () => {
  let dir: string;
  let db: TestDatabase;
  let current: TestApp;
  let previous: ChildProcess | undefined;
  let previousUrl: string;

  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') {
      throw new Error('This test needs the PostgreSQL server: two versions share one database');
    }
    const newest = git('log', '-n1', '--format=%H', '--', 'migrations/index.ts');
    if (!newest) throw new Error('No git history of migrations/index.ts: run the tests in a git clone (not shallow)');
    dir = mkdtempSync(join(tmpdir(), 'gh-previous-'));
    git('worktree', 'add', '--detach', '--force', dir, `${newest}^`);
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
    db = await createTestDatabase();
    previousUrl = `http://127.0.0.1:${await freePort()}`;
    current = await startTestApp({ db }); // migrates the database to this version's schema
    previous = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/main.ts'], {
      cwd: dir,
      env: {
        ...process.env,
        ...db.env,
        POLICIES_DIR: 'policies',
        GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        HOST: '127.0.0.1',
        PORT: new URL(previousUrl).port,
        LOG_LEVEL: 'error',
      },
      stdio: 'ignore',
    });
    await waitFor(
      async () => (await fetch(`${previousUrl}/health/ready`).catch(() => undefined))?.status === 200,
      'the previous version to be ready',
      120_000,
    );
  }, 180_000);

  afterAll(async () => {
    previous?.kill('SIGKILL');
    await current?.close();
    await db?.dispose();
    if (dir) {
      git('worktree', 'remove', '--force', dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decides, and both versions read the same answers; the audit chain verifies', async () => {
    const oldAdmin = await login(previousUrl);
    const credential = await enrollDevice(previousUrl, oldAdmin, { deviceId: 'ct-prev', model: 'SOMATOM X.cite' });
    const asked = [decisionBody({ action: 'log-upload' }), decisionBody({ action: 'x-unknown' })];
    const answers: string[] = [];
    for (const body of asked) {
      const res = await api(previousUrl, 'POST', '/api/v1/agent/decisions', { token: credential, body });
      expect(res.status).toBe(200);
      answers.push(res.body.decision);
    }
    expect(answers).toEqual(['allow', 'deny']);
    // This version reads what the previous one decided, and decides for the same device too.
    for (const [i, body] of asked.entries()) {
      const res = await api(current.baseUrl, 'GET', `/api/v1/agent/decisions/${body.requestId}`, { token: credential });
      expect(res.body.decision).toBe(answers[i]);
    }
    const now = decisionBody({ action: 'log-upload' });
    expect(
      (await api(current.baseUrl, 'POST', '/api/v1/agent/decisions', { token: credential, body: now })).body.decision,
    ).toBe('allow');
    // Every decision of either version is in the one chain, and it verifies.
    const admin = await login(current.baseUrl);
    for (const body of [...asked, now]) {
      const trail = await api(current.baseUrl, 'GET', `/api/v1/audit?requestId=${body.requestId}&eventType=decision`, {
        token: admin,
      });
      expect(trail.body.items).toHaveLength(1);
    }
    const verify = await api(current.baseUrl, 'GET', '/api/v1/audit/verify?full=true', { token: admin });
    expect(verify.body.ok).toBe(true);
  });
});
