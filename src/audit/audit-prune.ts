import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../common/clock.js';
import type { AuditEvent } from './audit-chain.js';
import { seqRangeLines } from './audit-export.js';
import { verifyExportFile } from './audit-file-verifier.js';
import type { SignedCheckpoint } from './checkpoint-format.js';
import { PRUNED_EVENT } from './pruned-start.js';

export interface RetentionSettings {
  AUDIT_RETENTION_DAYS: number;
  AUDIT_SEGMENT_RECORDS: number;
  AUDIT_ARCHIVE_DIR: string;
}

/** What audit:prune needs besides the owner's connection (the CLI's services). */
export interface PruneDeps {
  /** The tables' owner: the only role that may delete audit records (migration AuditRetention). */
  owner: DataSource;
  /** Signs a checkpoint of the segment's last record (SigningKeysService.sign). */
  sign: (fields: { seq: number; hash: string; at: string }) => Promise<SignedCheckpoint>;
  /** Appends in the owner's transaction, so the records go and their audit.pruned comes together. */
  appendIn: (manager: EntityManager, event: AuditEvent) => Promise<unknown>;
  clock: Clock;
  /**
   * Run first in each delete-and-audit transaction. On the embedded database `owner` is the
   * server's own session (role gatehouse_server, which may not delete): this switches it to the
   * tables' owner for that one transaction (SET LOCAL ROLE), so no other query runs with the
   * owner's rights. On PostgreSQL, unset: `owner` is the owner's own connection.
   */
  becomeOwner?: (manager: EntityManager) => Promise<void>;
  /** Who asked, for audit.pruned: 'cli' unless told otherwise (every prune today starts from audit:prune). */
  actorId?: string;
  /** How the request came, for audit.pruned (e.g. 'admin-socket'); unset: the CLI opened the database. */
  via?: string;
  /** A line of progress per step, for whoever waits (the CLI prints them on stderr). */
  onProgress?: (text: string) => void;
}

export interface PrunedSegment {
  firstSeq: number;
  lastSeq: number;
  count: number;
  archive: string;
  sha256: string;
  checkpointFile: string;
  checkpoint: SignedCheckpoint;
}

/** The segments removed, and why the next one (if any) was kept. */
export interface PruneOutcome {
  pruned: PrunedSegment[];
  kept: string;
}

/**
 * Segments are fixed stretches of seq (records 1..N, N+1..2N, ... with N = AUDIT_SEGMENT_RECORDS,
 * the first one starting at the oldest record still here): whole numbers, the same on every run,
 * unlike a month of recorded_at, which replicas' clocks need not agree on at its edges. Oldest
 * first, a segment is removed only when all of it is there, its newest record is older than
 * AUDIT_RETENTION_DAYS, a stored signed checkpoint is at or after its last record, and its archive
 * was written and verified; the first segment that fails one of these ends the run (the chain's
 * start only moves forward, with no holes).
 */
export async function pruneAudit(settings: RetentionSettings, deps: PruneDeps): Promise<PruneOutcome> {
  const { owner, clock } = deps;
  const size = settings.AUDIT_SEGMENT_RECORDS;
  const cutoff = new Date(clock.now().getTime() - settings.AUDIT_RETENTION_DAYS * 86_400_000);
  const pruned: PrunedSegment[] = [];
  for (;;) {
    const [bounds] = await owner.query<{ first: string | null; last: string | null }[]>(
      'SELECT min(seq) AS first, max(seq) AS last FROM audit_records',
    );
    if (!bounds?.first || !bounds.last) return { pruned, kept: 'the audit trail is empty' };
    const first = Number(bounds.first);
    const last = Math.ceil(first / size) * size;
    const range = `records ${first}-${last}`;
    // The head's segment stays: the chain keeps at least one record of its own before audit.pruned.
    if (last >= Number(bounds.last)) return { pruned, kept: `${range} are not a whole segment before the head yet` };
    const [segment] = await owner.query<{ n: number; newest: Date }[]>(
      'SELECT count(*)::int AS n, max(recorded_at) AS newest FROM audit_records WHERE seq BETWEEN $1 AND $2',
      [first, last],
    );
    if (segment.n !== last - first + 1) {
      throw new Error(`${range}: ${last - first + 1 - segment.n} are missing; run audit:verify`);
    }
    if (segment.newest >= cutoff) {
      return {
        pruned,
        kept: `${range}: the newest, of ${segment.newest.toISOString()}, is within the ${settings.AUDIT_RETENTION_DAYS} days kept`,
      };
    }
    const [covering] = await owner.query<{ seq: string }[]>(
      'SELECT seq FROM audit_checkpoints WHERE seq >= $1 ORDER BY seq LIMIT 1',
      [last],
    );
    if (!covering) return { pruned, kept: `${range}: no signed checkpoint at or after record ${last} yet` };
    const done = await pruneSegment(first, last, settings, deps);
    deps.onProgress?.(`${range}: archived to ${done.archive} (verified), removed`);
    pruned.push(done);
  }
}

async function pruneSegment(
  first: number,
  last: number,
  settings: RetentionSettings,
  deps: PruneDeps,
): Promise<PrunedSegment> {
  const { owner, clock } = deps;
  const count = last - first + 1;
  const [end] = await owner.query<{ hash: string }[]>('SELECT hash FROM audit_records WHERE seq = $1', [last]);
  const checkpoint = await checkpointOf(owner, deps.sign, { seq: last, hash: end.hash, at: clock.now().toISOString() });

  const dir = settings.AUDIT_ARCHIVE_DIR;
  const name = `gatehouse-audit-${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}`;
  const archive = join(dir, `${name}.jsonl`);
  const checkpointFile = join(dir, `${name}.checkpoint.json`);
  deps.onProgress?.(`records ${first}-${last}: writing ${archive}`);
  const sha256 = await writeArchive(owner, first, last, archive);
  const check = await verifyExportFile(archive, checkpoint);
  if (!check.ok || check.records !== count || check.first !== first) {
    removeQuietly(archive);
    throw new Error(
      `The archive of records ${first}-${last} does not verify: ${check.ok ? 'incomplete' : check.reason}`,
    );
  }
  writeFileSync(checkpointFile, JSON.stringify(checkpoint) + '\n');

  await owner.transaction(async (manager) => {
    await deps.becomeOwner?.(manager);
    // The append-only trigger lets these rows go (migration AuditRetention), in this transaction only.
    await manager.query("SELECT set_config('gatehouse.audit_prune_through', $1, true)", [String(last)]);
    const [gone] = await manager.query<{ n: number }[]>(
      'WITH gone AS (DELETE FROM audit_records WHERE seq BETWEEN $1 AND $2 RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [first, last],
    );
    if (gone.n !== count) throw new Error(`records ${first}-${last}: ${gone.n} deleted, expected ${count}`);
    await deps.appendIn(manager, {
      eventType: PRUNED_EVENT,
      actorType: 'system',
      actorId: deps.actorId ?? 'cli',
      outcome: 'success',
      details: {
        ...(deps.via ? { via: deps.via } : {}),
        firstSeq: first,
        lastSeq: last,
        lastHash: end.hash,
        count,
        retentionDays: settings.AUDIT_RETENTION_DAYS,
        archive,
        sha256,
        checkpoint,
      },
    });
  });
  return { firstSeq: first, lastSeq: last, count, archive, sha256, checkpointFile, checkpoint };
}

/**
 * The stored checkpoint of exactly record `seq`, signed now if there is none (a checkpoint the
 * archive must reach, so `audit:verify --file A --checkpoint C` checks it offline). It is kept in
 * audit_checkpoints: verify then checks the pruned start against it (pruned-start.ts).
 */
async function checkpointOf(
  owner: DataSource,
  sign: PruneDeps['sign'],
  fields: { seq: number; hash: string; at: string },
): Promise<SignedCheckpoint> {
  const select = 'SELECT seq, hash, at, key_id, signature FROM audit_checkpoints WHERE seq = $1';
  type Row = { seq: string; hash: string; at: Date; key_id: string; signature: string };
  let [row] = await owner.query<Row[]>(select, [fields.seq]);
  if (!row) {
    const cp = await sign(fields);
    await owner.query(
      `INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (seq) DO NOTHING`,
      [cp.seq, cp.hash, cp.at, cp.keyId, cp.signature],
    );
    [row] = await owner.query<Row[]>(select, [fields.seq]);
  }
  if (row.hash !== fields.hash) {
    throw new Error(`The checkpoint of record ${fields.seq} has another hash than the record: run audit:verify`);
  }
  return {
    seq: Number(row.seq),
    hash: row.hash,
    at: row.at.toISOString(),
    keyId: row.key_id,
    signature: row.signature,
  };
}

/** Writes the segment's jsonl (to a .partial file, renamed when complete); returns its SHA-256. */
async function writeArchive(owner: DataSource, first: number, last: number, path: string): Promise<string> {
  const partial = `${path}.partial`;
  const sha = createHash('sha256');
  let out: WriteStream | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    out = createWriteStream(partial, { flags: 'w' });
    const stream = out;
    const failed = new Promise<never>((_, reject) => stream.once('error', reject));
    failed.catch(() => undefined); // awaited below through the races
    for await (const chunk of seqRangeLines(owner, first, last)) {
      sha.update(chunk);
      if (!stream.write(chunk)) await Promise.race([new Promise<void>((r) => stream.once('drain', () => r())), failed]);
    }
    stream.end();
    await Promise.race([finished(stream), failed]);
  } catch (error) {
    out?.destroy();
    removeQuietly(partial);
    throw new Error(`Cannot write the archive ${path}: ${(error as Error).message}`, { cause: error });
  }
  renameSync(partial, path);
  return sha.digest('hex');
}

/** Removes a file that may not be there (nor its folder): what is being cleaned up failed already. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // ENOTDIR and the like: there is no file to remove.
  }
}
