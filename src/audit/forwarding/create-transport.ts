import type { ForwardTransport } from './forward-transport.js';
import { HecTransport } from './hec-transport.js';
import type { Receiver } from './receiver-url.js';
import { STREAM_SETTLE_MS, SyslogStreamTransport } from './syslog-stream-transport.js';
import { SyslogUdpTransport } from './syslog-udp-transport.js';

/** What a transport thread needs to reach one receiver (plain data: it crosses to the thread). */
export interface TransportOptions {
  receiver: Receiver;
  /** AUDIT_FORWARD_CA_FILE's bytes, when set. */
  ca?: Uint8Array;
  hecToken?: string;
}

export function createTransport({ receiver, ca, hecToken }: TransportOptions): ForwardTransport {
  const caBuffer = ca && Buffer.from(ca);
  if (receiver.kind === 'hec') return new HecTransport(receiver.url, hecToken!, caBuffer);
  if (receiver.transport === 'udp') return new SyslogUdpTransport(receiver);
  return new SyslogStreamTransport({ ...receiver, transport: receiver.transport }, caBuffer);
}

/** The transport's settleMs (ForwardTransport), known without making one. */
export const settleMsOf = (receiver: Receiver): number =>
  receiver.kind === 'syslog' && receiver.transport !== 'udp' ? STREAM_SETTLE_MS : 0;
