import type { ChainedRecord } from './audit-chain.js';
import { canonicalJson } from './audit-chain.js';

const COLUMNS = [
  'seq',
  'recordedAt',
  'eventType',
  'actorType',
  'actorId',
  'deviceId',
  'action',
  'remoteUser',
  'outcome',
  'ruleIds',
  'policyVersion',
  'approvers',
  'sourceAddress',
  'requestId',
  'details',
  'prevHash',
  'hash',
] as const;

/**
 * The first characters that make a spreadsheet run a cell as a formula (= + - @, or tab/CR
 * that some strip first): such a cell gets a leading apostrophe. The one list for csvCell and
 * the COPY export's byte writer (export-formats.ts).
 */
export const FORMULA_STARTS: readonly string[] = ['=', '+', '-', '@', '\t', '\r'];

/**
 * One CSV cell (RFC 4180: quoted when it holds a quote, comma or line break; quotes doubled).
 * A cell a spreadsheet would run as a formula gets a leading apostrophe (FORMULA_STARTS): the
 * audit trail holds text vendors and users typed.
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = FORMULA_STARTS.includes(value.charAt(0)) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const csvHeader = () => COLUMNS.join(',') + '\r\n';

/** A record as a CSV row; lists and details as their canonical JSON. */
export function csvLine(r: ChainedRecord): string {
  const cells: (string | null)[] = [
    String(r.seq),
    r.recordedAt.toISOString(),
    r.eventType,
    r.actorType,
    r.actorId,
    r.deviceId,
    r.action,
    r.remoteUser,
    r.outcome,
    canonicalJson(r.ruleIds),
    r.policyVersion,
    canonicalJson(r.approvers),
    r.sourceAddress,
    r.requestId,
    canonicalJson(r.details),
    r.prevHash,
    r.hash,
  ];
  return cells.map(csvCell).join(',') + '\r\n';
}
