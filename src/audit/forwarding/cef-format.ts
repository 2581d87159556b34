import { isIP } from 'node:net';
import { canonicalJson } from '../audit-chain.js';
import { eventTypeOf, timeOf, type ForwardItem } from './forward-item.js';

/** ArcSight Common Event Format (CEF:0), as Sentinel, ArcSight, Elastic and Splunk read it. */
const HEADER_PREFIX = 'CEF:0|Gatehouse|Gatehouse|1';

/** Header fields: a backslash or a pipe would end the field early. */
export const escapeCefHeader = (s: string): string => s.replace(/[\\|]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');

const NEEDS_ESCAPE = /[\\=\r\n]/;
const ESCAPED = /[\\=\r\n]/g;

/** Extension values: backslash, equals sign and line breaks are escaped (CEF spec, "Character Encoding"). */
export const escapeCefValue = (s: string): string =>
  // Most values need nothing: testing first skips building a copy.
  NEEDS_ESCAPE.test(s) ? s.replace(ESCAPED, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`)) : s;

/** 0-10; what a SIEM rule would sort on first. */
function severity(item: ForwardItem): number {
  if (item.kind === 'checkpoint') return 1;
  const { eventType, outcome } = item.record;
  if (eventType === 'audit.forwarding.failing' || eventType.startsWith('audit.tamper')) return 8;
  if (eventType.includes('break-glass') || eventType.includes('breakGlass')) return 7;
  if (outcome === 'deny' || outcome === 'denied' || outcome === 'rejected') return 5;
  return 3;
}

/** One item as a CEF line: the chain fields as custom strings/numbers with their labels. */
export function formatCef(item: ForwardItem): string {
  const eventType = eventTypeOf(item);
  // Built as one string, field by field (no array of pairs to filter and join: this runs per record).
  let extension = `rt=${timeOf(item).getTime()}`;
  const field = (key: string, value: string | number | null) => {
    if (value !== null) extension += ` ${key}=${escapeCefValue(String(value))}`;
  };
  /** A custom field with its label, or nothing when the value is empty. */
  const labelled = (key: string, label: string, value: string | number | null) => {
    if (value === null) return;
    field(`${key}Label`, label);
    field(key, value);
  };
  if (item.kind === 'checkpoint') {
    const cp = item.checkpoint;
    labelled('cn1', 'seq', cp.seq);
    labelled('cs2', 'hash', cp.hash);
    labelled('cs3', 'keyId', cp.keyId);
    labelled('cs4', 'signature', cp.signature);
  } else {
    const r = item.record;
    field('externalId', r.seq);
    labelled('cn1', 'seq', r.seq);
    labelled('cs1', 'prevHash', r.prevHash);
    labelled('cs2', 'hash', r.hash);
    labelled('cs3', 'requestId', r.requestId);
    labelled('cs4', 'ruleIds', r.ruleIds.length ? r.ruleIds.join(',') : null);
    labelled('cs5', 'policyVersion', r.policyVersion);
    labelled('cs6', 'deviceId', r.deviceId);
    field('suser', r.actorId ? `${r.actorType}:${r.actorId}` : r.actorType);
    field('duser', r.remoteUser);
    field('act', r.action);
    field('outcome', r.outcome);
    field('src', r.sourceAddress && isIP(r.sourceAddress) ? r.sourceAddress : null);
    labelled('flexString1', 'approvers', r.approvers.length ? r.approvers.join(',') : null);
    field('msg', Object.keys(r.details).length ? canonicalJson(r.details) : null);
  }
  const name = escapeCefHeader(eventType);
  return `${HEADER_PREFIX}|${name}|${name}|${severity(item)}|${extension}`;
}
