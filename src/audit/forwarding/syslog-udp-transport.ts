import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { fromWire, type WireItem } from './forward-item.js';
import type { ForwardTransport } from './forward-transport.js';
import { syslogMessage } from './syslog-message.js';

/**
 * Syslog over UDP (RFC 5426), one message per datagram: for labs. Nothing confirms delivery,
 * so a record lost on the way is seen in the SIEM only as a gap in seq.
 */
export class SyslogUdpTransport implements ForwardTransport {
  readonly epoch = 0;
  readonly settleMs = 0;
  private socket: Socket | undefined;

  constructor(private readonly target: { host: string; port: number; format: 'cef' | 'json' }) {}

  async send(items: WireItem[]): Promise<void> {
    this.socket ??= createSocket(isIPv6(this.target.host) ? 'udp6' : 'udp4');
    const socket = this.socket;
    for (const item of items) {
      await new Promise<void>((resolve, reject) =>
        socket.send(syslogMessage(fromWire(item), this.target.format), this.target.port, this.target.host, (e) =>
          e ? reject(e) : resolve(),
        ),
      );
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
