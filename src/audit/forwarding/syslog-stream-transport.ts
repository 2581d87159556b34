import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { fromWire, type WireItem } from './forward-item.js';
import { CONNECT_TIMEOUT_MS, WRITE_TIMEOUT_MS, withTimeout, type ForwardTransport } from './forward-transport.js';
import { octetCountedAll, syslogMessage } from './syslog-message.js';

/** How long after a write a stream's records count as delivered, if its connection is still up. */
export const STREAM_SETTLE_MS = 1_000;

/**
 * Syslog over TLS (RFC 5425) or plain TCP (labs), octet-counting framing. The receiver's
 * certificate is checked against AUDIT_FORWARD_CA_FILE (or the system's CAs) and its name.
 */
export class SyslogStreamTransport implements ForwardTransport {
  epoch = 0;
  readonly settleMs = STREAM_SETTLE_MS;
  onEpochChange: ((epoch: number) => void) | undefined;
  private socket: Socket | undefined;

  constructor(
    private readonly target: { transport: 'tls' | 'tcp'; host: string; port: number; format: 'cef' | 'json' },
    private readonly ca: Buffer | undefined,
  ) {}

  async send(items: WireItem[]): Promise<void> {
    const socket = this.socket ?? (await this.connect());
    const bytes = octetCountedAll(items.map((i) => syslogMessage(fromWire(i), this.target.format)));
    // A receiver that stops reading fills the buffers and the callback never comes: the timeout
    // drops the connection, and the batch is sent again on the next one.
    await withTimeout(
      new Promise<void>((resolve, reject) => socket.write(bytes, (e) => (e ? reject(e) : resolve()))),
      WRITE_TIMEOUT_MS,
      'writing to the receiver',
      () => socket.destroy(),
    );
  }

  close(): void {
    this.socket?.destroy();
  }

  private connect(): Promise<Socket> {
    const { transport, host, port } = this.target;
    const socket =
      transport === 'tls'
        ? tlsConnect({ host, port, ca: this.ca, servername: isIP(host) ? undefined : host })
        : netConnect({ host, port });
    const ready = new Promise<Socket>((resolve, reject) => {
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => resolve(socket));
      socket.once('error', reject);
    });
    // Any end of the connection (closed by the receiver, reset, failed write) starts a new epoch.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.epoch++;
      this.onEpochChange?.(this.epoch);
    });
    // The receiver never writes to us: its FIN means it went away; close at once, before the next write.
    socket.on('data', () => undefined);
    socket.once('end', () => socket.destroy());
    return withTimeout(ready, CONNECT_TIMEOUT_MS, `connecting to ${host}:${port}`, () => socket.destroy()).then((s) => {
      this.socket = s;
      return s;
    });
  }
}
