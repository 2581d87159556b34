import type { DataSource } from 'typeorm';
import { GENESIS_HASH, hashRecord, normalizeEvent, type ChainedRecord } from './audit-chain.js';
import { fromRow, type AuditRow } from './audit-row.js';
import { chainStart } from './pruned-start.js';

/** A point the chain must still pass through: record `seq` with hash `hash`. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

/** prunedThrough: records up to this one were pruned (audit:prune); the walk started after it. */
export type VerifyResult =
  | { ok: true; records: number; head: ChainPoint | null; prunedThrough?: number }
  | { ok: false; records: number; firstBadSeq: number; reason: string; prunedThrough?: number };

export interface VerifyOptions {
  /** Points (checkpoints) the chain must reach, each with its name for the reason. */
  checkpoints?: (ChainPoint & { name: string })[];
  /** Start after this point, already verified (incremental); default: from the first record, or after a prune. */
  from?: ChainPoint | null;
  onProgress?: (checked: number) => void;
  /** Recomputes a page's hashes (a worker thread in the server); default: here, in this thread. */
  hasher?: (records: ChainedRecord[]) => Promise<string[]>;
}

const hashHere = (records: ChainedRecord[]) =>
  Promise.resolve(records.map((r) => hashRecord(r.seq, r.recordedAt, normalizeEvent(r), r.prevHash)));

// Small pages: each is parsed on the main thread (the hashing is the caller's hasher's).
const PAGE = 1000;

/**
 * Walks the chain in order. Reports the first record whose position, link or content does
 * not check out: a changed record fails its hash, a removed one leaves a gap in seq, a
 * reordered one fails its link to the record before. Against checkpoints it also finds what
 * the chain alone cannot: a removed tail (the chain ends before a checkpoint), and a history
 * rewritten with every hash recomputed (the checkpoint's record has another hash).
 */
export async function verifyAuditChain(dataSource: DataSource, options: VerifyOptions = {}): Promise<VerifyResult> {
  const checkpoints = new Map((options.checkpoints ?? []).map((c) => [c.seq, c]));
  const start = options.from ? { from: options.from } : await chainStart(dataSource);
  if ('bad' in start) return { ok: false, records: 0, firstBadSeq: start.bad.seq, reason: start.bad.reason };
  const pruned = start.prunedThrough === undefined ? {} : { prunedThrough: start.prunedThrough };
  let expectedSeq = (start.from?.seq ?? 0) + 1;
  let prevHash = start.from?.hash ?? GENESIS_HASH;
  let checked = 0;
  const bad = (firstBadSeq: number, reason: string): VerifyResult => ({
    ok: false,
    records: checked,
    firstBadSeq,
    reason,
    ...pruned,
  });
  for (;;) {
    const rows = await dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records WHERE seq >= $1 ORDER BY seq LIMIT ${PAGE}`,
      [expectedSeq],
    );
    const records = rows.map(fromRow);
    const hashes = await (options.hasher ?? hashHere)(records);
    for (const [i, record] of records.entries()) {
      if (record.seq !== expectedSeq) return bad(expectedSeq, `record ${expectedSeq} is missing`);
      if (record.prevHash !== prevHash) {
        return bad(record.seq, `record ${record.seq} does not link to record ${record.seq - 1} (removed or reordered)`);
      }
      if (hashes[i] !== record.hash) return bad(record.seq, `record ${record.seq} was changed`);
      const checkpoint = checkpoints.get(record.seq);
      if (checkpoint && checkpoint.hash !== record.hash) {
        return bad(
          record.seq,
          `the chain no longer reaches ${checkpoint.name}: record ${record.seq} has another hash ` +
            `(records up to ${record.seq} were rewritten)`,
        );
      }
      prevHash = record.hash;
      expectedSeq += 1;
      checked += 1;
    }
    options.onProgress?.(checked);
    if (rows.length < PAGE) break;
  }
  const lastSeq = expectedSeq - 1;
  const beyond = [...checkpoints.values()].filter((c) => c.seq > lastSeq).sort((a, b) => a.seq - b.seq);
  if (beyond.length > 0) {
    return bad(
      lastSeq + 1,
      `the chain ends at record ${lastSeq}, before ${beyond[0].name}: ` +
        `records ${lastSeq + 1} to ${beyond[beyond.length - 1].seq} or more were removed`,
    );
  }
  return { ok: true, records: checked, head: lastSeq > 0 ? { seq: lastSeq, hash: prevHash } : null, ...pruned };
}
