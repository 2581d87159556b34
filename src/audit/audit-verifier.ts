import type { DataSource } from 'typeorm';
import { GENESIS_HASH, hashRecord, normalizeEvent } from './audit-chain.js';
import { fromRow, type AuditRow } from './audit-row.js';

export type VerifyResult =
  | { ok: true; records: number; head: { seq: number; hash: string } | null }
  | { ok: false; records: number; firstBadSeq: number; reason: string };

const PAGE = 5000;

/**
 * Walks the whole chain in order. Reports the first record whose position, link or
 * content does not check out: a changed record fails its hash, a removed one leaves a
 * gap in seq, a reordered one fails its link to the record before.
 */
export async function verifyAuditChain(
  dataSource: DataSource,
  onProgress?: (checked: number) => void,
): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const rows = await dataSource.query<AuditRow[]>(
      `SELECT * FROM audit_records WHERE seq >= $1 ORDER BY seq LIMIT ${PAGE}`,
      [expectedSeq],
    );
    for (const row of rows) {
      const record = fromRow(row);
      if (record.seq !== expectedSeq) {
        return { ok: false, records: checked, firstBadSeq: expectedSeq, reason: `record ${expectedSeq} is missing` };
      }
      if (record.prevHash !== prevHash) {
        return {
          ok: false,
          records: checked,
          firstBadSeq: record.seq,
          reason: `record ${record.seq} does not link to record ${record.seq - 1} (removed or reordered)`,
        };
      }
      const expected = hashRecord(record.seq, record.recordedAt, normalizeEvent(record), record.prevHash);
      if (expected !== record.hash) {
        return { ok: false, records: checked, firstBadSeq: record.seq, reason: `record ${record.seq} was changed` };
      }
      prevHash = record.hash;
      expectedSeq += 1;
      checked += 1;
    }
    onProgress?.(checked);
    if (rows.length < PAGE) break;
  }
  return { ok: true, records: checked, head: checked > 0 ? { seq: expectedSeq - 1, hash: prevHash } : null };
}
