import { isIP } from 'node:net';
import { canonicalJson } from '../audit-chain.js';
import { eventTypeOf, timeOf, type ForwardItem } from './forward-item.js';

/** ArcSight Common Event Format (CEF:0), as Sentinel, ArcSight, Elastic and Splunk read it. */
const HEADER_PREFIX = 'CEF:0|Gatehouse|Gatehouse|1';

/** Header fields: a backslash or a pipe would end the field early. */
export const escapeCefHeader = (s: string): string => s.replace(/[\\|]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');

/** Extension values: backslash, equals sign and line breaks are escaped (CEF spec, "Character Encoding"). */
export const escapeCefValue = (s: string): string =>
  s.replace(/[\\=\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));

/** 0-10; what a SIEM rule would sort on first. */
function severity(item: ForwardItem): number {
  if (item.kind === 'checkpoint') return 1;
  const { eventType, outcome } = item.record;
  if (eventType === 'audit.forwarding.failing' || eventType.startsWith('audit.tamper')) return 8;
  if (eventType.includes('break-glass') || eventType.includes('breakGlass')) return 7;
  if (outcome === 'deny' || outcome === 'denied' || outcome === 'rejected') return 5;
  return 3;
}

/** A custom field with its label, or nothing when the value is empty. */
const labelled = (key: string, label: string, value: string | number | null): [string, string | number | null][] =>
  value === null
    ? []
    : [
        [`${key}Label`, label],
        [key, value],
      ];

/** One item as a CEF line: the chain fields as custom strings/numbers with their labels. */
export function formatCef(item: ForwardItem): string {
  const eventType = eventTypeOf(item);
  const ext: [string, string | number | null][] = [['rt', timeOf(item).getTime()]];
  if (item.kind === 'checkpoint') {
    const cp = item.checkpoint;
    ext.push(
      ...labelled('cn1', 'seq', cp.seq),
      ...labelled('cs2', 'hash', cp.hash),
      ...labelled('cs3', 'keyId', cp.keyId),
      ...labelled('cs4', 'signature', cp.signature),
    );
  } else {
    const r = item.record;
    ext.push(
      ['externalId', r.seq],
      ...labelled('cn1', 'seq', r.seq),
      ...labelled('cs1', 'prevHash', r.prevHash),
      ...labelled('cs2', 'hash', r.hash),
      ...labelled('cs3', 'requestId', r.requestId),
      ...labelled('cs4', 'ruleIds', r.ruleIds.length ? r.ruleIds.join(',') : null),
      ...labelled('cs5', 'policyVersion', r.policyVersion),
      ...labelled('cs6', 'deviceId', r.deviceId),
      ['suser', r.actorId ? `${r.actorType}:${r.actorId}` : r.actorType],
      ['duser', r.remoteUser],
      ['act', r.action],
      ['outcome', r.outcome],
      ['src', r.sourceAddress && isIP(r.sourceAddress) ? r.sourceAddress : null],
      ...labelled('flexString1', 'approvers', r.approvers.length ? r.approvers.join(',') : null),
      ['msg', Object.keys(r.details).length ? canonicalJson(r.details) : null],
    );
  }
  const extension = ext
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${escapeCefValue(String(v))}`)
    .join(' ');
  const name = escapeCefHeader(eventType);
  return `${HEADER_PREFIX}|${name}|${name}|${severity(item)}|${extension}`;
}
