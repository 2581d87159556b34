import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { normalizeEvent } from '../../src/audit/audit-chain.js';
import { AuditCheckpointsService } from '../../src/audit/audit-checkpoints.service.js';
import { AuditPruneService } from '../../src/audit/audit-prune.service.js';
import { writeChained } from '../../src/audit/audit-writer.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { Database } from '../../src/database/database.js';
import { EMBEDDED_SERVER_ROLE } from '../../src/database/server-role.js';
import { runCliProcess } from '../support/cli-process.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { api, login, startTestApp } from '../support/test-app.js';
import { createEmbeddedTestDatabase, type TestDatabase } from '../support/test-db.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;

/** Appends `n` events recorded at `at` as the server's session does (audit_append), e.g. years ago. */
const appendAt = (dataSource: DataSource, at: Date, n: number) =>
  writeChained(
    dataSource.manager,
    Array.from({ length: n }, (_, i) =>
      normalizeEvent({ eventType: 'test.old', actorType: 'system', details: { i, at: at.toISOString() } }),
    ),
    at,
  );

/**
 * Retention on the embedded database (one process only), with real processes: the CLI prunes
 * with the server stopped (it opens the folder), then while the server runs (through the
 * server's admin socket). Segments of 5: 1-5 ten years old, 6-10 seven years old, 11-13 of
 * yesterday. The first prune keeps nine years (only 1-5 goes), the server the default six (6-10).
 */
describe('audit:prune on the embedded database', () => {
  let db: TestDatabase;
  let archiveDir: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = createEmbeddedTestDatabase();
    archiveDir = mkdtempSync(join(tmpdir(), 'gatehouse-archive-'));
    env = { ...db.env, AUDIT_SEGMENT_RECORDS: '5', AUDIT_ARCHIVE_DIR: archiveDir };
    const database = await Database.open(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { migrate: true });
    try {
      await appendAt(database.dataSource, new Date(Date.now() - 10 * YEAR), 5);
      await appendAt(database.dataSource, new Date(Date.now() - 7 * YEAR), 5);
      await appendAt(database.dataSource, new Date(Date.now() - DAY), 3);
    } finally {
      await database.close();
    }
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await db?.dispose();
    rmSync(archiveDir, { recursive: true, force: true });
  });

  /** The archive of one pruned segment verifies offline against the checkpoint file kept with it. */
  async function expectArchiveVerifies(segment: { archive: string; checkpointFile: string; firstSeq: number }) {
    const offline = await runCliProcess(
      ['audit:verify', '--file', segment.archive, '--checkpoint', segment.checkpointFile],
      env,
    );
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true, records: 5, first: segment.firstSeq });
  }

  it('prunes with the server stopped: the CLI opens the folder', async () => {
    expect((await runCliProcess(['audit:checkpoint'], env)).code).toBe(0);
    const run = await runCliProcess(['audit:prune'], { ...env, AUDIT_RETENTION_DAYS: String(9 * 365) });
    expect(run.stderr).toMatch(/verifying the audit chain: \d+ records checked/);
    expect(run.stderr).toMatch(
      /records 1-5: archived to .*gatehouse-audit-000000000001-000000000005\.jsonl \(verified\), removed/,
    );
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout);
    expect(outcome.pruned).toHaveLength(1);
    expect(outcome.pruned[0]).toMatchObject({ firstSeq: 1, lastSeq: 5, count: 5 });
    expect(outcome.kept).toMatch(/^records 6-10: the newest, of .*, is within the 3285 days kept$/);
    await expectArchiveVerifies(outcome.pruned[0]);

    const verified = await runCliProcess(['audit:verify'], env);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, prunedThrough: 5 });
  }, 300_000);

  it('prunes while the server runs, through the server; verify passes and the prune is in the trail', async () => {
    server = await startServerProcess(env);
    const run = await runCliProcess(['audit:prune'], env);
    expect(run.stderr).toMatch(
      /records 6-10: archived to .*gatehouse-audit-000000000006-000000000010\.jsonl \(verified\), removed/,
    );
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout);
    expect(outcome.pruned).toHaveLength(1);
    expect(outcome.pruned[0]).toMatchObject({ firstSeq: 6, lastSeq: 10, count: 5 });
    expect(outcome.kept).toMatch(/^records 11-15: /);
    await expectArchiveVerifies(outcome.pruned[0]);

    const token = await login(server.baseUrl);
    const trail = await api(server.baseUrl, 'GET', '/api/v1/audit?eventType=audit.pruned', { token });
    expect(trail.status).toBe(200);
    expect(trail.body.items).toHaveLength(2);
    type Item = { details: { firstSeq: number; via?: string } };
    const bySegment = (first: number) => (trail.body.items as Item[]).find((r) => r.details.firstSeq === first);
    const [viaCli, viaServer] = [bySegment(1)!, bySegment(6)!];
    expect(viaCli.details).toMatchObject({ firstSeq: 1, lastSeq: 5, retentionDays: 3285 });
    expect(viaCli.details.via).toBeUndefined();
    expect(viaServer).toMatchObject({
      actorId: 'cli',
      outcome: 'success',
      details: { firstSeq: 6, lastSeq: 10, count: 5, retentionDays: 2192, via: 'admin-socket' },
    });
    const online = await api(server.baseUrl, 'GET', '/api/v1/audit/verify?full=true', { token });
    expect(online.body).toMatchObject({ ok: true, prunedThrough: 10 });

    // Nothing more to prune: the next whole segment is recent.
    const again = await runCliProcess(['audit:prune'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).pruned).toEqual([]);

    await server.stop();
    server = undefined;
    const verified = await runCliProcess(['audit:verify'], env);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, prunedThrough: 10 });
  }, 300_000);
});

describe("the embedded server's session around a prune", () => {
  it('is the owner only inside the delete-and-audit transaction: gatehouse_server again after, and cannot delete; a chain that does not verify is refused', async () => {
    const db = createEmbeddedTestDatabase();
    const archiveDir = mkdtempSync(join(tmpdir(), 'gatehouse-archive-'));
    const env = { ...db.env, AUDIT_SEGMENT_RECORDS: '5', AUDIT_ARCHIVE_DIR: archiveDir };
    // Records 1-5, before the server's own: the first segment, seven years old.
    const before = await Database.open(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { migrate: true });
    await appendAt(before.dataSource, new Date(Date.now() - 7 * YEAR), 5).finally(() => before.close());
    const t = await startTestApp({ db, env });
    try {
      const dataSource = t.app.get(DataSource);
      await t.app.get(AuditCheckpointsService).create();
      const run = await t.app.get(AuditPruneService).prune();
      expect(run).toMatchObject({ outcome: { pruned: [expect.objectContaining({ lastSeq: 5 })] } });

      const [session] = await dataSource.query<{ user: string }[]>('SELECT current_user AS user');
      expect(session.user).toBe(EMBEDDED_SERVER_ROLE);
      await expect(
        dataSource.transaction(async (m) => {
          await m.query("SELECT set_config('gatehouse.audit_prune_through', '100', true)");
          await m.query('DELETE FROM audit_records WHERE seq = 6');
        }),
      ).rejects.toThrow(/permission denied/);

      // A chain that does not verify is not pruned, and the CLI says why (through the socket).
      await dataSource.transaction(async (m) => {
        await m.query('SET LOCAL ROLE NONE');
        await m.query('ALTER TABLE audit_records DISABLE TRIGGER USER');
        await m.query(`UPDATE audit_records SET details = '{"edited": true}' WHERE seq = 8`);
        await m.query('ALTER TABLE audit_records ENABLE TRIGGER USER');
      });
      const refused = await runCliProcess(['audit:prune'], env);
      expect(refused.stderr).toMatch(/Nothing pruned: the audit chain does not verify: .*record 8/);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
    } finally {
      await t.close();
      await db.dispose();
      rmSync(archiveDir, { recursive: true, force: true });
    }
  }, 120_000);
});
