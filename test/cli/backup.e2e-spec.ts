import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { backupCommand } from '../../src/backup/backup.command.js';
import { readBackup, writeBackupFile } from '../../src/backup/backup-file.js';
import type { BackupHeader } from '../../src/backup/backup-format.js';
import { restoreCommand } from '../../src/backup/restore.command.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { decisionBody } from '../support/agent.js';
import { askPending, createApprovalWorld, installBody, uploadBody, type ApprovalWorld } from '../support/approvers.js';
import { runCliProcess } from '../support/cli-process.js';
import { adminQuery, createEmbeddedTestDatabase, urlFor, type TestDatabase } from '../support/test-db.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

const config = (env: Record<string, string>) => loadConfig({ POLICIES_DIR: 'policies', LOG_LEVEL: 'error', ...env });

/** A new, empty PostgreSQL database (not the migrated test template): what a restore gets. */
async function emptyPostgres(): Promise<TestDatabase> {
  const name = `gatehouse_restore_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    kind: 'postgres',
    env: { DATABASE_URL: urlFor(name) },
    dispose: async () => void (await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** Each table's rows, counted in the database itself. */
async function countsIn(url: string, header: BackupHeader): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of header.tables) {
    const [row] = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM "${t.name}"`, [], url);
    counts[t.name] = Number(row.n);
  }
  return sealedTogether(counts);
}

/**
 * Records in the audit inbox when the backup was taken are sealed into the chain once the
 * restored Gatehouse opens (src/audit/sealer): counted with the chain's records.
 */
function sealedTogether(counts: Record<string, number>): Record<string, number> {
  const { audit_inbox: inbox = 0, ...rest } = counts;
  return { ...rest, audit_records: (rest.audit_records ?? 0) + inbox };
}

const expectedCounts = (header: BackupHeader) =>
  sealedTogether(Object.fromEntries(header.tables.map((t) => [t.name, t.rows])));

/** The restored Gatehouse: verifies against the backup's checkpoint, and a new decision continues the chain. */
async function checkRestored(app: TestApp, w: ApprovalWorld, header: BackupHeader): Promise<void> {
  const admin = await login(app.baseUrl);
  const cp = header.checkpoint!;
  const verify = await api(
    app.baseUrl,
    'GET',
    `/api/v1/audit/verify?checkpointSeq=${cp.seq}&checkpointHash=${cp.hash}`,
    { token: admin },
  );
  expect(verify.body).toMatchObject({ ok: true });
  // The device's credential and the policy came back with the rows: the agent decides as before.
  const decided = await api(app.baseUrl, 'POST', '/api/v1/agent/decisions', { token: w.ct, body: decisionBody() });
  expect(decided.status).toBe(200);
  const next = await api(app.baseUrl, 'GET', `/api/v1/audit?limit=500`, { token: admin });
  const records = next.body.items as { seq: number; hash: string; prevHash: string; requestId?: string }[];
  const after = records.find((r) => r.seq === cp.seq + 1);
  expect(after?.prevHash).toBe(cp.hash);
  expect(records.some((r) => r.seq > cp.seq && r.requestId === decided.body.requestId)).toBe(true);
  const again = await api(app.baseUrl, 'GET', '/api/v1/audit/verify?full=true', { token: admin });
  expect(again.body).toMatchObject({ ok: true });
}

/** Runs an in-process command with its stdout and stderr (progress) kept, not printed. */
async function captured<T>(command: () => Promise<T>): Promise<{ result: T; out: string }> {
  let out = '';
  const log = jest
    .spyOn(console, 'log')
    .mockImplementation((...args: unknown[]) => void (out += `${args.join(' ')}\n`));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { result: await command(), out };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

/** Runs `task` while three agents of the device ask for decisions; their answers' statuses. */
async function whileDeciding<T>(app: TestApp, w: ApprovalWorld, task: () => Promise<T>) {
  let stop = false;
  const statuses: number[] = [];
  const workload = [1, 2, 3].map(async () => {
    while (!stop) {
      const res = await api(app.baseUrl, 'POST', '/api/v1/agent/decisions', { token: w.ct, body: decisionBody() });
      statuses.push(res.status);
    }
  });
  await new Promise((r) => setTimeout(r, 100));
  try {
    return { result: await task(), statuses };
  } finally {
    stop = true;
    await Promise.all(workload);
  }
}

/** No 429s from the device rate limit during the workloads. */
const UNLIMITED = { DEVICE_RATE_PER_SECOND: '10000', DEVICE_RATE_BURST: '100000' };

describe('backup and restore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-backup-'));
  const file = join(dir, 'gatehouse.backup.gz');
  let source: TestApp;
  let world: ApprovalWorld;
  let header: BackupHeader;
  let decidedDuringBackup = 0;

  beforeAll(async () => {
    source = await startTestApp({ env: UNLIMITED });
    world = await createApprovalWorld(source.baseUrl);
    const ask = (body: { requestId: string }) => askPending(source.baseUrl, world.ct, body);
    const install = await ask(installBody());
    const approve = (token: string, id: string) =>
      api(source.baseUrl, 'POST', `/api/v1/approvals/${id}/approve`, { token, body: {} });
    expect((await approve(world.tokens.alice, install)).status).toBe(200);
    expect((await approve(world.tokens.bob, install)).status).toBe(200);
    await ask(uploadBody()); // left pending
    await api(source.baseUrl, 'POST', '/api/v1/audit/checkpoints', { token: world.admin });

    // Decisions go on while the backup reads: the backup is one snapshot of all of it.
    const during = await whileDeciding(
      source,
      world,
      async () => (await captured(() => backupCommand(config(source.db.env), [file]))).result,
    );
    expect(during.result).toBe(0);
    expect(during.statuses.every((s) => s === 200)).toBe(true);
    decidedDuringBackup = during.statuses.length;
    header = (await readBackup(file)).header;
  }, 60_000);

  afterAll(async () => {
    await source?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a whole, private backup with the chain head it ends at, while decisions go on', async () => {
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(decidedDuringBackup).toBeGreaterThan(0);
    expect(header).toMatchObject({ database: 'postgres', schemaVersion: MIGRATIONS.at(-1)!.name });
    const cp = header.checkpoint!;
    expect(cp).toMatchObject({ keyId: expect.any(String), signature: expect.any(String) });
    // Consistent: the snapshot's head is a record that exists with that hash, and every
    // decision in the backup has its audit records in it.
    const [head] = await adminQuery<{ hash: string }>(
      'SELECT hash FROM audit_records WHERE seq = $1',
      [cp.seq],
      source.db.env.DATABASE_URL,
    );
    expect(head.hash).toBe(cp.hash);
    const rows = header.tables.find((t) => t.name === 'decision_requests')!.rows;
    expect(rows).toBeGreaterThan(2);
  });

  it('restores into a new PostgreSQL database, which verifies against the checkpoint and continues the chain', async () => {
    const db = await emptyPostgres();
    try {
      // A real CLI process, as an operator runs it.
      const run = await runCliProcess(['restore', file], db.env);
      expect(run.stderr).not.toMatch(/Error/);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        /Audit chain verified through record \d+ \(the backup's checkpoint, signature valid\)/,
      );
      expect(await countsIn(db.env.DATABASE_URL, header)).toEqual(expectedCounts(header));
      const [orphans] = await adminQuery<{ n: string }>(
        'SELECT count(*) AS n FROM decision_requests d WHERE NOT EXISTS (SELECT 1 FROM audit_records a WHERE a.request_id::text = d.request_id::text)',
        [],
        db.env.DATABASE_URL,
      );
      expect(Number(orphans.n)).toBe(0);
      const restored = await startTestApp({ db });
      try {
        await checkRestored(restored, world, header);
      } finally {
        await restored.close();
      }
    } finally {
      await db.dispose();
    }
  }, 60_000);

  it('restores the same file into a new embedded data folder; the running embedded server backs itself up', async () => {
    const db = createEmbeddedTestDatabase();
    rmSync(db.env.GATEHOUSE_DATA_DIR, { recursive: true });
    try {
      const restore = await captured(() => restoreCommand(config(db.env), [file]));
      expect(restore.result).toBe(0);
      // Each table's rows, and the verification.
      for (const t of header.tables) expect(restore.out).toMatch(new RegExp(`^  ${t.name} +${t.rows}$`, 'm'));
      expect(restore.out).toContain(`Audit chain verified through record ${header.checkpoint!.seq}`);
      const restored = await startTestApp({ db, env: UNLIMITED });
      try {
        await checkRestored(restored, world, header);
        // Its backup while it runs: through the admin socket (the folder is the server's alone).
        const second = join(dir, 'embedded.backup.gz');
        const during = await whileDeciding(
          restored,
          world,
          async () => (await captured(() => backupCommand(config(db.env), [second]))).result,
        );
        expect(during.result).toBe(0);
        expect(during.statuses.length).toBeGreaterThan(0);
        expect(during.statuses.every((s) => s === 200)).toBe(true);
        const copy = (await readBackup(second)).header;
        expect(copy.database).toBe('embedded');
        // It ends at a record of the restored chain, after the decision made since the restore.
        const token = await login(restored.baseUrl);
        const records = (await api(restored.baseUrl, 'GET', '/api/v1/audit?limit=500', { token })).body.items as {
          seq: number;
          hash: string;
        }[];
        expect(copy.checkpoint!.seq).toBeGreaterThan(header.checkpoint!.seq);
        expect(records.find((r) => r.seq === copy.checkpoint!.seq)?.hash).toBe(copy.checkpoint!.hash);
        expect(copy.tables.find((t) => t.name === 'devices')?.rows).toBe(1);
      } finally {
        await restored.close();
      }
    } finally {
      await db.dispose();
    }
  }, 60_000);

  it('refuses a database or folder that is not empty, naming it', async () => {
    await expect(restoreCommand(config(source.db.env), [file])).rejects.toThrow(
      /the database gatehouse_test_\w+ \(DATABASE_URL\) is not empty: .*audit_records \(\d+ rows\).*restore needs an empty database/,
    );
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-pglite-'));
    writeFileSync(join(folder, 'keep.txt'), 'not Gatehouse');
    try {
      await expect(restoreCommand(config({ GATEHOUSE_DATA_DIR: folder }), [file])).rejects.toThrow(
        `GATEHOUSE_DATA_DIR ${folder} is not empty (it holds keep.txt)`,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses a backup of a schema newer than this Gatehouse knows', async () => {
    const future = join(dir, 'future.backup.gz');
    await writeBackupFile(future, [
      JSON.stringify({ ...header, schemaVersion: 'FromTheFuture1999999999999', tables: [] }),
    ]);
    const db = createEmbeddedTestDatabase();
    try {
      await expect(restoreCommand(config(db.env), [future])).rejects.toThrow(
        `${future} is a backup of schema FromTheFuture1999999999999, which this Gatehouse does not know (its newest is ${header.schemaVersion})`,
      );
    } finally {
      await db.dispose();
    }
  });

  it('refuses a truncated or corrupted backup before writing anything', async () => {
    const bytes = readFileSync(file);
    const truncated = join(dir, 'truncated.gz');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const corrupted = join(dir, 'corrupted.gz');
    const changed = Buffer.from(bytes);
    changed[Math.floor(changed.length / 2)] ^= 0xff;
    writeFileSync(corrupted, changed);
    const db = createEmbeddedTestDatabase();
    try {
      await expect(restoreCommand(config(db.env), [truncated])).rejects.toThrow(
        `${truncated} is not a whole Gatehouse backup: the compressed data is cut short`,
      );
      await expect(restoreCommand(config(db.env), [corrupted])).rejects.toThrow(
        `${corrupted} is not a whole Gatehouse backup`,
      );
      // Nothing was written: the folder can still take a restore.
      expect(statSync(db.env.GATEHOUSE_DATA_DIR).isDirectory()).toBe(true);
    } finally {
      await db.dispose();
    }
  });
});
