import { hostname } from 'node:os';
import { canonicalJson } from '../audit-chain.js';
import { formatCef } from './cef-format.js';
import { eventTypeOf, itemJson, timeOf, type ForwardItem } from './forward-item.js';

/** Facility 13 (log audit), severity 6 (informational): <110>. */
const PRI = '<110>';
/** The structured-data ID: 32473 is the private enterprise number RFC 5612 reserves for examples. */
const SD_ID = 'gatehouse@32473';

/** RFC 5424 header fields: printable US-ASCII without spaces, at most `max` characters, "-" when empty. */
const headerField = (s: string, max: number): string => s.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-';

/** SD-PARAM values escape ", \ and ] (RFC 5424 6.3.3). */
const sdValue = (s: string | number): string => {
  const text = String(s);
  return /["\\\]]/.test(text) ? text.replace(/["\\\]]/g, (c) => `\\${c}`) : text;
};

const HOST = headerField(hostname(), 255);

/** The message body: a CEF line or the item's JSON. */
export function messageBody(item: ForwardItem, format: 'cef' | 'json'): string {
  return format === 'cef' ? formatCef(item) : canonicalJson(itemJson(item));
}

/**
 * One RFC 5424 syslog message. The chain fields are in the structured data as well as in the
 * body, so that a SIEM keeping only one of them still sees a gap or a broken link.
 */
export function syslogMessage(item: ForwardItem, format: 'cef' | 'json'): string {
  const params =
    item.kind === 'record'
      ? `seq="${item.record.seq}" prevHash="${sdValue(item.record.prevHash)}" hash="${sdValue(item.record.hash)}"`
      : `checkpointSeq="${item.checkpoint.seq}" hash="${sdValue(item.checkpoint.hash)}"`;
  const header = `${PRI}1 ${timeOf(item).toISOString()} ${HOST} gatehouse ${process.pid} ${headerField(eventTypeOf(item), 32)}`;
  return `${header} [${SD_ID} ${params}] ${messageBody(item, format)}`;
}

/**
 * Octet-counting framing (RFC 6587 3.4.1, RFC 5425 4.3): "LENGTH SP MESSAGE", LENGTH in bytes;
 * the messages one after another in one buffer (one encoding pass, no buffer per message).
 */
export function octetCountedAll(messages: string[]): Buffer {
  let text = '';
  for (const m of messages) text += `${Buffer.byteLength(m, 'utf8')} ${m}`;
  return Buffer.from(text, 'utf8');
}
