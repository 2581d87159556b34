import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { normalizeEvent } from '../../src/audit/audit-chain.js';
import { writeChained } from '../../src/audit/audit-writer.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { loadConfig, type AppConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/test-db.js';

/** Runs a CLI command as `npm run gatehouse -- <name> <args>` would, capturing what it prints. */
async function run(config: AppConfig, name: string, args: string[] = []) {
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await COMMANDS[name].run(config, args);
    return { code, output: out.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
    stderr.mockRestore();
  }
}

const SEGMENT = 5;
const DAY = 86_400_000;

/**
 * Retention on PostgreSQL with the roles of a real installation: the server's role (no DELETE on
 * the audit tables) serves and appends, the owner (DATABASE_MIGRATION_URL) migrates and prunes.
 * Segments of 5 records: 1-5 all older than six years, 6-10 with one recent record, 11+ recent.
 */
describe('audit retention: audit:prune', () => {
  const role = `gatehouse_srv_${randomBytes(4).toString('hex')}`;
  let db: TestDatabase;
  let config: AppConfig;
  let server: Database;
  let dir: string;

  const records = async () =>
    (await server.dataSource.query<{ seq: string }[]>('SELECT seq FROM audit_records ORDER BY seq')).map((r) =>
      Number(r.seq),
    );
  /** Appends events recorded at `at` as the server's role does (audit_append), e.g. years ago. */
  const appendAt = (at: Date, n: number) =>
    writeChained(
      server.dataSource.manager,
      Array.from({ length: n }, (_, i) =>
        normalizeEvent({ eventType: 'test.old', actorType: 'system', details: { i, at: at.toISOString() } }),
      ),
      at,
    );

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    const serverUrl = new URL(db.env.DATABASE_URL);
    serverUrl.username = role;
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-retention-'));
    config = loadConfig({
      DATABASE_URL: serverUrl.toString(),
      DATABASE_MIGRATION_URL: db.env.DATABASE_URL,
      AUDIT_SEGMENT_RECORDS: String(SEGMENT),
      AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
      LOG_LEVEL: 'silent',
    });
    expect(config.AUDIT_RETENTION_DAYS).toBe(2192); // six years by default
    server = await Database.open(config, { migrate: true });
    const old = new Date(Date.now() - 7 * 365 * DAY);
    await appendAt(old, 9);
    await appendAt(new Date(Date.now() - DAY), 4);
  });
  afterAll(async () => {
    await server?.close();
    await db?.dispose();
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prunes nothing while no signed checkpoint covers a segment', async () => {
    const before = await records();
    expect(before.slice(0, 13)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const res = await run(config, 'audit:prune');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.output)).toEqual({
      pruned: [],
      kept: 'records 1-5: no signed checkpoint at or after record 5 yet',
    });
    // Every record is still there (starting the CLI's services may append, e.g. a new signing key).
    expect(await records()).toEqual(expect.arrayContaining(before));
  });

  it('prunes nothing when the archive cannot be written', async () => {
    expect((await run(config, 'audit:checkpoint')).code).toBe(0);
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'a file where the archive folder should be');
    await expect(run({ ...config, AUDIT_ARCHIVE_DIR: join(blocker, 'archive') }, 'audit:prune')).rejects.toThrow(
      /Cannot write the archive .*not-a-folder.*gatehouse-audit-000000000001-000000000005\.jsonl/,
    );
    expect((await records()).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(await server.dataSource.query(`SELECT 1 FROM audit_records WHERE event_type = 'audit.pruned'`)).toEqual([]);
  });

  it('prunes only the whole segment older than the limit; the archive verifies offline, verify passes, the prune is in the trail', async () => {
    const res = await run(config, 'audit:prune');
    expect(res.code).toBe(0);
    const outcome = JSON.parse(res.output);
    expect(outcome.pruned).toHaveLength(1);
    expect(outcome.pruned[0]).toMatchObject({ firstSeq: 1, lastSeq: 5, count: 5 });
    // 6-10 holds a record of yesterday: kept whole, old records and all.
    expect(outcome.kept).toMatch(/^records 6-10: the newest, of .*, is within the 2192 days kept$/);
    const kept = await records();
    expect(kept[0]).toBe(6);
    expect(kept).not.toContain(5);

    const { archive, checkpointFile, sha256, checkpoint } = outcome.pruned[0];
    expect(readdirSync(join(dir, 'archive')).sort()).toEqual([
      'gatehouse-audit-000000000001-000000000005.checkpoint.json',
      'gatehouse-audit-000000000001-000000000005.jsonl',
    ]);
    expect(createHash('sha256').update(readFileSync(archive)).digest('hex')).toBe(sha256);
    const offline = await run(config, 'audit:verify', ['--file', archive, '--checkpoint', checkpointFile]);
    expect(JSON.parse(offline.output)).toEqual({
      ok: true,
      records: 5,
      first: 1,
      head: { seq: 5, hash: checkpoint.hash },
    });
    expect(offline.code).toBe(0);

    const [pruned] = await server.dataSource.query(
      `SELECT seq, actor_id, details FROM audit_records WHERE event_type = 'audit.pruned'`,
    );
    expect(pruned.details).toEqual({
      firstSeq: 1,
      lastSeq: 5,
      lastHash: checkpoint.hash,
      count: 5,
      retentionDays: 2192,
      archive,
      sha256,
      checkpoint,
    });
    const [sixth] = await server.dataSource.query('SELECT prev_hash FROM audit_records WHERE seq = 6');
    expect(sixth.prev_hash).toBe(checkpoint.hash);

    const verified = await run(config, 'audit:verify');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.output)).toMatchObject({
      ok: true,
      prunedThrough: 5,
      head: { seq: Number(pruned.seq) },
    });

    // A checkpoint of a pruned record is for the archive: online, verify says so.
    const old = await run(config, 'audit:verify', ['--checkpoint', checkpointFile]);
    expect(old.code).toBe(1);
    expect(JSON.parse(old.output).reason).toMatch(
      /the checkpoint file \(record 5, .*\) is of a pruned record \(records up to 5 were archived\): verify the archive/,
    );

    // A second run finds nothing more to prune.
    expect(JSON.parse((await run(config, 'audit:prune')).output).pruned).toEqual([]);
  });

  it('the server role still cannot DELETE, not even with the prune setting; the owner only inside a prune', async () => {
    await expect(
      server.dataSource.transaction(async (m) => {
        await m.query("SELECT set_config('gatehouse.audit_prune_through', '100', true)");
        await m.query('DELETE FROM audit_records WHERE seq = 6');
      }),
    ).rejects.toThrow(/permission denied/);
    await expect(adminQuery('DELETE FROM audit_records WHERE seq = 6', [], db.env.DATABASE_URL)).rejects.toThrow(
      /append-only: DELETE is not allowed/,
    );
    expect((await records())[0]).toBe(6);
  });

  it('refuses while another audit:prune holds the prune lock (two timers, or one and someone by hand)', async () => {
    const other = server.dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [0x7072_6e65]); // "prne", audit-prune.service.ts
      const res = await run(config, 'audit:prune');
      expect(res).toEqual({
        code: 1,
        output: 'Nothing pruned: another audit:prune is running on this database: try again when it has ended',
      });
    } finally {
      await other.query('SELECT pg_advisory_unlock($1)', [0x7072_6e65]);
      await other.release();
    }
  });

  it('reports a kept record removed after the prune, at the pruned start or later', async () => {
    // The owner, triggers off, removes the first kept record: the chain must not just start later.
    const owner = db.env.DATABASE_URL;
    await adminQuery(
      `BEGIN; ALTER TABLE audit_records DISABLE TRIGGER USER; DELETE FROM audit_records WHERE seq = 6;
       ALTER TABLE audit_records ENABLE TRIGGER USER; COMMIT;`,
      [],
      owner,
    );
    const res = await run(config, 'audit:verify');
    expect(res.code).toBe(1);
    expect(JSON.parse(res.output)).toMatchObject({ ok: false, firstBadSeq: 6, reason: 'record 6 is missing' });
  });

  it('refuses a pruned start that no kept checkpoint vouches for', async () => {
    // Whoever may append (the server's role) claims records up to 8 were pruned.
    await writeChained(
      server.dataSource.manager,
      [
        normalizeEvent({
          eventType: 'audit.pruned',
          actorType: 'system',
          details: { firstSeq: 6, lastSeq: 8, lastHash: 'f'.repeat(64) },
        }),
      ],
      new Date(),
    );
    const res = await run(config, 'audit:verify');
    expect(res.code).toBe(1);
    expect(JSON.parse(res.output)).toMatchObject({
      ok: false,
      firstBadSeq: 9,
      reason: expect.stringMatching(
        /no signed checkpoint kept of that record has the hash .*: the pruned start was forged/,
      ),
    });
  });
});
