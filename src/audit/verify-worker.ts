import { parentPort } from 'node:worker_threads';
import { hashRecord, normalizeEvent, type ChainedRecord } from './audit-chain.js';

/**
 * Runs in a worker thread: recomputes the hashes of a page of records (the canonical JSON
 * walk and SHA-256 are the CPU of a verification: seconds for 200k records, which on the
 * main thread held up every decision).
 */
parentPort?.on('message', (msg: { id: number; records: ChainedRecord[] }) => {
  const hashes = msg.records.map((r) => hashRecord(r.seq, r.recordedAt, normalizeEvent(r), r.prevHash));
  parentPort!.postMessage({ id: msg.id, hashes });
});
