import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AuditExport } from '../../src/audit/audit-export.js';
import { AuditSealer } from '../../src/audit/sealer/audit-sealer.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { loadConfig, type AppConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { api, login, startTestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

/** Runs a CLI command as `npm run gatehouse -- <name> <args>` would, capturing what it prints. */
async function run(config: AppConfig, name: string, args: string[] = [], env: Record<string, string> = {}) {
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await COMMANDS[name].run(config, args);
    return { code, output: out.join('\n') };
  } finally {
    process.env = saved;
    log.mockRestore();
    err.mockRestore();
  }
}

describe('the gatehouse CLI', () => {
  let db: TestDatabase;
  let config: AppConfig;
  beforeAll(async () => {
    db = await createTestDatabase();
    config = loadConfig({ ...db.env, LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('migrates, and finds the entities in step with the migrations', async () => {
    expect((await run(config, 'migrate')).code).toBe(0);
    const check = await run(config, 'migration:check');
    expect(check).toEqual({ code: 0, output: 'Migrations match the entities.' });
  });

  it('creates an administrator, resets a password and unlocks an account', async () => {
    if (db.kind !== 'postgres') {
      // The CLI works here next to a running server, which only PostgreSQL allows (the embedded
      // database serves one process: test/app/embedded.e2e-spec.ts checks that the CLI refuses).
      throw new Error('This test needs the PostgreSQL server (TEST_DATABASE_URL or 127.0.0.1:5432)');
    }
    const created = await run(config, 'admin:create', ['oncall'], { GATEHOUSE_NEW_PASSWORD: 'Granite-willow-ember' });
    expect(created.code).toBe(0);
    const t = await startTestApp({
      db,
      env: { GATEHOUSE_ADMIN_PASSWORD: '', LOGIN_BACKOFF_AFTER: '2', LOGIN_LOCK_AFTER: '3' },
    });
    try {
      const token = await login(t.baseUrl, 'oncall', 'Granite-willow-ember');
      expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token })).body.roles[0].role).toBe('admin');

      expect(
        (await run(config, 'password:reset', ['oncall'], { GATEHOUSE_NEW_PASSWORD: 'Copper-thistle-anchor' })).code,
      ).toBe(0);
      expect((await api(t.baseUrl, 'GET', '/api/v1/auth/me', { token })).status).toBe(401); // sessions ended
      for (let i = 0; i < 3; i++) {
        await api(t.baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'oncall', password: 'wrong' } });
      }
      const locked = await api(t.baseUrl, 'POST', '/api/v1/auth/login', {
        body: { username: 'oncall', password: 'Copper-thistle-anchor' },
      });
      expect(locked.status).toBe(429);
      const unlock = await run(config, 'user:unlock', ['OnCall']);
      expect(unlock).toEqual({ code: 0, output: "'oncall' can sign in again." });
      await login(t.baseUrl, 'oncall', 'Copper-thistle-anchor');
    } finally {
      await t.close();
    }
  });

  it('runs the policy test cases: the example set passes; a wrong expectation fails with exit 1', async () => {
    const ok = await run(config, 'policy:test');
    expect(ok.code).toBe(0);
    expect(ok.output).toMatch(/^\d+ passed, 0 failed$/m);
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-tests-'));
    try {
      cpSync('policies', dir, { recursive: true });
      const file = join(dir, 'tests', 'sessions.yaml');
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(
          'expect: { decision: allow, rules: [acme-sessions-office-hours] }',
          'expect: { decision: deny, rules: [] }',
        ),
      );
      const bad = await run({ ...config, POLICIES_DIR: dir }, 'policy:test');
      expect(bad.code).toBe(1);
      expect(bad.output).toMatch(
        /FAIL {2}sessions\.yaml: .*\n {6}expected deny \[\]\n {6}got {6}allow \[acme-sessions-office-hours\]/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("policy:test decides ticket-checked rules on the case's stated ITSM answer, and fails a case without one", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-tickets-'));
    try {
      cpSync('policies', dir, { recursive: true });
      writeFileSync(
        join(dir, 'rules', 'tickets.yaml'),
        `rules:
  - id: ct-sessions-with-change
    effect: allow
    actions: [remote-session]
    devices: [ct-scanners]
    remoteUsers: { enterprises: [initech] }
    ticket: { required: true, pattern: "^CHG[0-9]{7}$", check: servicenow, onUnavailable: ask }
`,
      );
      const session = (name: string, itsm: string, expect: string) => `
  - name: ${name}
    at: "2026-11-24T09:00:00+01:00"
    device: { id: ct-0042, model: "SOMATOM X.cite" }
    request:
      action: remote-session
      remoteUser: { id: "kim@initech.example", enterprise: initech }
      context: { ticket: CHG0012345 }${itsm}
    expect: ${expect}
`;
      const cases = (...c: string[]) => writeFileSync(join(dir, 'tests', 'tickets.yaml'), `cases:${c.join('')}`);
      cases(
        session(
          'confirmed',
          '\n    itsm: { CHG0012345: confirmed }',
          '{ decision: allow, rules: [ct-sessions-with-change] }',
        ),
        session('closed', '\n    itsm: { CHG0012345: { refused: closed } }', '{ decision: deny, rules: [] }'),
        session(
          'no answer',
          '\n    itsm: { CHG0012345: unavailable }',
          '{ decision: pending, rules: [ct-sessions-with-change] }',
        ),
      );
      const ok = await run({ ...config, POLICIES_DIR: dir }, 'policy:test');
      expect(ok.output).toMatch(/^\d+ passed, 0 failed$/m);
      expect(ok.code).toBe(0);
      cases(session('forgot the ITSM', '', '{ decision: allow, rules: [ct-sessions-with-change] }'));
      const bad = await run({ ...config, POLICIES_DIR: dir }, 'policy:test');
      expect(bad.code).toBe(1);
      expect(bad.output).toContain(
        'FAIL  tickets.yaml: forgot the ITSM\n      expected allow [ct-sessions-with-change]\n' +
          '      got      no ITSM answer for ticket CHG0012345, which rule ct-sessions-with-change checks',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a weak password with the reason', async () => {
    await expect(run(config, 'admin:create', ['weak'], { GATEHOUSE_NEW_PASSWORD: 'short' })).rejects.toThrow(
      /too weak/,
    );
  });

  it('audit:verify --file checks an export offline: 0 when intact, 1 naming the edited line and seq', async () => {
    const database = await Database.open(config, { migrate: true });
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-export-'));
    const file = join(dir, 'export.jsonl');
    try {
      let text = '';
      for await (const chunk of new AuditExport(database, new AuditSealer(database.dataSource)).text({
        format: 'jsonl',
      }))
        text += chunk;
      writeFileSync(file, text);
      const ok = await run(config, 'audit:verify', ['--file', file]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.output)).toMatchObject({ ok: true, first: 1 });
      const lines = text.split('\n');
      lines[1] = JSON.stringify({ ...JSON.parse(lines[1]), actorId: 'someone-else' });
      writeFileSync(file, lines.join('\n'));
      const bad = await run(config, 'audit:verify', ['--file', file]);
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.output)).toMatchObject({
        ok: false,
        line: 2,
        seq: 2,
        reason: expect.stringMatching(/^line 2 \(seq 2\) was changed/),
      });
      await expect(run(config, 'audit:verify', ['--file'])).rejects.toThrow('--file needs a value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await database.close();
    }
  });

  it('verifies the audit trail, and exits 1 naming the first bad record after tampering', async () => {
    // Records of its own (user.created, role.changed), whatever the other tests did.
    expect(
      (await run(config, 'admin:create', ['auditee'], { GATEHOUSE_NEW_PASSWORD: 'Marble-falcon-orchard' })).code,
    ).toBe(0);
    const ok = await run(config, 'audit:verify');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.output)).toMatchObject({ ok: true });
    const database = await Database.open(config, { migrate: false });
    try {
      await database.dataSource.query('ALTER TABLE audit_records DISABLE TRIGGER USER');
      await database.dataSource.query(`UPDATE audit_records SET actor_id = 'someone-else' WHERE seq = 2`);
      await database.dataSource.query('ALTER TABLE audit_records ENABLE TRIGGER USER');
    } finally {
      await database.close();
    }
    const bad = await run(config, 'audit:verify');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.output)).toMatchObject({ ok: false, firstBadSeq: 2 });
  });
});
