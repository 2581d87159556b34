import { invalidField } from '../common/api-error.js';
import type { AuditSort } from './audit-search.dto.js';

/**
 * Keyset pagination over the chain's seq, opaque to clients like the approval queue's
 * cursor. seq only grows, so records appended while a client pages never shift a page:
 * no gaps, no duplicates. The cursor names its order, so it cannot be replayed in the other.
 */
export function encodeAuditCursor(sort: AuditSort, seq: number): string {
  return Buffer.from(JSON.stringify([sort, seq])).toString('base64url');
}

/** The seq to continue after; 400 for anything this API did not give out for this order. */
export function decodeAuditCursor(text: string, sort: AuditSort): number {
  try {
    const [cursorSort, seq] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (cursorSort === sort && Number.isSafeInteger(seq) && (seq as number) > 0) return seq as number;
  } catch {
    // fall through
  }
  throw invalidField('cursor', 'not a cursor this API gave out for this sort');
}
