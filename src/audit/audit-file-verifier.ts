import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GENESIS_HASH, hashRecord, normalizeEvent, type ChainedRecord } from './audit-chain.js';

/** The head an export must reach, e.g. a signed checkpoint's {seq, hash}. */
export interface ExpectedHead {
  seq: number;
  hash: string;
}

export type FileVerifyResult =
  | { ok: true; records: number; first: number | null; head: ExpectedHead | null }
  | { ok: false; records: number; line: number | null; seq: number | null; reason: string };

/**
 * Checks an export (jsonl, one record a line, as GET /api/v1/audit/export writes it) with no
 * access to Gatehouse: each line's hash is recomputed from its content, each links to the line
 * before, seq has no gaps, and an export that starts at seq 1 starts at the genesis hash.
 * The first bad line is named by line number and seq. With `expected`, the export must also
 * contain that record with that hash (a checkpoint): a truncated or rewritten chain fails.
 */
export async function verifyExportLines(
  lines: AsyncIterable<string>,
  expected?: ExpectedHead,
): Promise<FileVerifyResult> {
  let lineNo = 0;
  let records = 0;
  let first: number | null = null;
  let prev: ExpectedHead | null = null;
  let reachedExpected = false;
  const bad = (reason: string, seq: number | null = null) =>
    ({ ok: false, records, line: lineNo, seq, reason }) as const;
  for await (const text of lines) {
    lineNo += 1;
    if (text.trim() === '') continue;
    const record = parseRecord(text);
    if (typeof record === 'string') return bad(`line ${lineNo}: ${record}`);
    const at = `line ${lineNo} (seq ${record.seq})`;
    if (prev === null) {
      first = record.seq;
      if (record.seq === 1 && record.prevHash !== GENESIS_HASH) return bad(`${at} does not start the chain`, 1);
    } else if (record.seq !== prev.seq + 1) {
      return bad(`${at} follows seq ${prev.seq}: records ${prev.seq + 1}..${record.seq - 1} are missing`, record.seq);
    } else if (record.prevHash !== prev.hash) {
      return bad(`${at} does not link to the record before (removed, reordered or changed)`, record.seq);
    }
    if (hashRecord(record.seq, record.recordedAt, normalizeEvent(record), record.prevHash) !== record.hash) {
      return bad(`${at} was changed: its content does not match its hash`, record.seq);
    }
    if (expected && record.seq === expected.seq) {
      if (record.hash !== expected.hash) return bad(`${at} differs from the checkpoint's hash`, record.seq);
      reachedExpected = true;
    }
    prev = { seq: record.seq, hash: record.hash };
    records += 1;
  }
  if (expected && !reachedExpected) {
    const where =
      prev === null ? 'is empty' : first! > expected.seq ? `starts at seq ${first}` : `ends at seq ${prev.seq}`;
    return {
      ok: false,
      records,
      line: null,
      seq: null,
      reason: `the export ${where}: it does not reach checkpoint seq ${expected.seq}`,
    };
  }
  return { ok: true, records, first, head: prev };
}

/** The lines of a file, streamed (an export may be larger than memory). */
export function verifyExportFile(path: string, expected?: ExpectedHead): Promise<FileVerifyResult> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  return verifyExportLines(lines, expected);
}

const TEXT_FIELDS = [
  'actorId',
  'deviceId',
  'action',
  'remoteUser',
  'outcome',
  'policyVersion',
  'sourceAddress',
  'requestId',
];

/** A record from one export line, or why the line is not one. */
function parseRecord(text: string): ChainedRecord | string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not a record';
  const recordedAt = typeof r.recordedAt === 'string' ? new Date(r.recordedAt) : null;
  const ok =
    Number.isSafeInteger(r.seq) &&
    (r.seq as number) > 0 &&
    recordedAt !== null &&
    !Number.isNaN(recordedAt.getTime()) &&
    typeof r.eventType === 'string' &&
    typeof r.actorType === 'string' &&
    typeof r.prevHash === 'string' &&
    typeof r.hash === 'string' &&
    Array.isArray(r.ruleIds) &&
    Array.isArray(r.approvers) &&
    typeof r.details === 'object' &&
    r.details !== null &&
    TEXT_FIELDS.every((f) => r[f] === null || typeof r[f] === 'string');
  if (!ok) return 'not a complete audit record (seq, recordedAt, eventType, actorType, hashes...)';
  return { ...(r as unknown as ChainedRecord), recordedAt: recordedAt };
}
