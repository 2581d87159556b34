import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { COMMANDS } from '../../src/cli/commands.js';
import { loadConfig, type AppConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

/** Runs a CLI command as `npm run gatehouse -- <name> <args>` would, capturing what it prints. */
async function run(config: AppConfig, name: string, args: string[] = [], env: Record<string, string> = {}) {
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await COMMANDS[name].run(config, args);
    return { code, output: out.join('\n') };
  } finally {
    process.env = saved;
    log.mockRestore();
    err.mockRestore();
    stderr.mockRestore();
  }
}

describe('audit:verify --checkpoint, audit:checkpoint and signing:rotate-key', () => {
  let db: TestDatabase;
  let config: AppConfig;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    config = loadConfig({ ...db.env, LOG_LEVEL: 'silent' });
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-checkpoint-'));
  });
  afterAll(async () => {
    await db?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** As the tables' owner: triggers off, the SQL, triggers on. */
  async function asOwner(...statements: string[]) {
    const database = await Database.open(config, { migrate: false });
    try {
      await database.dataSource.query('ALTER TABLE audit_records DISABLE TRIGGER USER');
      await database.dataSource.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
      for (const sql of statements) await database.dataSource.query(sql);
      await database.dataSource.query('ALTER TABLE audit_records ENABLE TRIGGER USER');
      await database.dataSource.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
    } finally {
      await database.close();
    }
  }

  it('verifies against a checkpoint file, across a key rotation, and catches what the database alone no longer shows', async () => {
    expect(
      (await run(config, 'admin:create', ['auditee'], { GATEHOUSE_NEW_PASSWORD: 'Marble-falcon-orchard' })).code,
    ).toBe(0);
    const made = await run(config, 'audit:checkpoint');
    expect(made.code).toBe(0);
    const cp = JSON.parse(made.output);
    const file = join(dir, 'checkpoint.json');
    writeFileSync(file, made.output);

    const ok = await run(config, 'audit:verify', ['--checkpoint', file]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.output)).toMatchObject({ ok: true, checkpoints: [{ source: 'stored' }, { source: 'file' }] });

    // A new key: the rotation is audited, and the old key's checkpoint still verifies.
    const rotated = await run(config, 'signing:rotate-key');
    expect(rotated).toEqual({
      code: 0,
      output: expect.stringMatching(new RegExp(`^Signing key ${cp.keyId} retired; signing with [0-9a-f]{16} now\\.$`)),
    });
    expect((await run(config, 'audit:verify', ['--checkpoint', file])).code).toBe(0);
    const second = JSON.parse((await run(config, 'audit:checkpoint')).output);
    expect(second.keyId).not.toBe(cp.keyId);
    expect(second.seq).toBe(cp.seq + 1); // the rotation's record
    const database = await Database.open(config, { migrate: false });
    const [rotation] = await database.dataSource.query(
      `SELECT details FROM audit_records WHERE event_type = 'signing.key_rotated'`,
    );
    await database.close();
    expect(rotation.details).toEqual({ retiredKeyId: cp.keyId, keyId: second.keyId });

    // The owner removes the tail AND the stored checkpoints that named it: only the file remembers.
    await asOwner(`DELETE FROM audit_records WHERE seq > ${cp.seq - 2}`, 'DELETE FROM audit_checkpoints');
    expect(JSON.parse((await run(config, 'audit:verify')).output)).toMatchObject({ ok: true });
    const caught = await run(config, 'audit:verify', ['--checkpoint', file]);
    expect(caught.code).toBe(1);
    expect(JSON.parse(caught.output)).toMatchObject({
      ok: false,
      firstBadSeq: cp.seq - 1,
      reason: expect.stringContaining(`before the checkpoint file (record ${cp.seq}, signed ${cp.at})`),
    });
  });

  it('refuses a checkpoint file that was edited, and names what is wrong with a malformed one', async () => {
    const cp = JSON.parse((await run(config, 'audit:checkpoint')).output);
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...cp, seq: cp.seq - 1 }));
    const res = await run(config, 'audit:verify', ['--checkpoint', edited]);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.output).reason).toMatch(/checkpoint file .* is not signed by any of this appliance's keys/);

    const malformed = join(dir, 'malformed.json');
    writeFileSync(malformed, JSON.stringify({ seq: 'x', hash: cp.hash }));
    await expect(run(config, 'audit:verify', ['--checkpoint', malformed])).rejects.toThrow(
      /malformed\.json: not a Gatehouse checkpoint \(seq: .*; at: .*/,
    );
    await expect(run(config, 'audit:verify', ['--checkpoint'])).rejects.toThrow('--checkpoint needs a value');
  });
});
