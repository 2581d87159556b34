import type { DataSource } from 'typeorm';
import type { ChainPoint } from './audit-verifier.js';

/** What the latest `audit.pruned` record says was removed: records up to `throughSeq`. */
export interface PrunedStart {
  throughSeq: number;
  /** The hash of record `throughSeq`: the first kept record's prev_hash must be this. */
  lastHash: string;
}

export type ChainStart = { from: ChainPoint | null; prunedThrough?: number } | { bad: { seq: number; reason: string } };

/** The event audit:prune appends (audit-prune.ts) after removing a segment. */
export const PRUNED_EVENT = 'audit.pruned';

/**
 * Where a walk of the whole chain starts: at the genesis while record 1 is there; after a prune
 * at the pruned segment's last record, as the latest `audit.pruned` record and the signed
 * checkpoint it kept of that record both name it (the record is in the chain, the checkpoint
 * outside it: changing where the chain "starts" needs both). The first kept record must then
 * link to that hash, so removing kept records from the start is still found (record N missing).
 */
export async function chainStart(dataSource: DataSource): Promise<ChainStart> {
  const [first] = await dataSource.query<{ seq: string | null }[]>('SELECT min(seq) AS seq FROM audit_records');
  const firstSeq = first?.seq === null || first?.seq === undefined ? null : Number(first.seq);
  if (firstSeq === null || firstSeq === 1) return { from: null };
  const pruned = await latestPrune(dataSource);
  if (!pruned) return { from: null }; // the walk reports record 1 missing
  const [cp] = await dataSource.query<{ hash: string }[]>('SELECT hash FROM audit_checkpoints WHERE seq = $1', [
    pruned.throughSeq,
  ]);
  if (cp?.hash !== pruned.lastHash) {
    const reason =
      `the chain starts after pruned record ${pruned.throughSeq}, but no signed checkpoint kept of that record ` +
      `has the hash the ${PRUNED_EVENT} record names: the pruned start was forged`;
    return { bad: { seq: pruned.throughSeq + 1, reason } };
  }
  if (firstSeq <= pruned.throughSeq) {
    const reason = `records ${firstSeq} to ${pruned.throughSeq} are still here although ${PRUNED_EVENT} says they were removed`;
    return { bad: { seq: firstSeq, reason } };
  }
  return { from: { seq: pruned.throughSeq, hash: pruned.lastHash }, prunedThrough: pruned.throughSeq };
}

async function latestPrune(dataSource: DataSource): Promise<PrunedStart | null> {
  const [row] = await dataSource.query<{ details: { lastSeq?: unknown; lastHash?: unknown } }[]>(
    'SELECT details FROM audit_records WHERE event_type = $1 ORDER BY seq DESC LIMIT 1',
    [PRUNED_EVENT],
  );
  const { lastSeq, lastHash } = row?.details ?? {};
  if (!Number.isSafeInteger(lastSeq) || typeof lastHash !== 'string') return null;
  return { throughSeq: lastSeq as number, lastHash };
}
