import { createServer, type Server, type Socket } from 'node:net';

/**
 * A plain-TCP syslog receiver written for the tests: it parses octet-counted frames
 * (RFC 6587 3.4.1, "LENGTH SP MESSAGE") byte for byte and fails loudly on anything else.
 */
export interface FrameReceiver {
  messages: string[];
  errors: string[];
  /** Connections accepted so far. */
  readonly connections: number;
  listen(port: number): Promise<void>;
  close(): Promise<void>;
}

/** `crashFirst`: the first connection takes one chunk and closes, losing it (a receiver that died mid-batch). */
export function frameReceiver(options: { crashFirst?: boolean } = {}): FrameReceiver {
  let crash = options.crashFirst ?? false;
  const messages: string[] = [];
  const errors: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let server: Server | undefined;
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    connections++;
    socket.on('close', () => sockets.delete(socket));
    if (crash) {
      crash = false;
      socket.once('data', () => socket.destroy());
      return;
    }
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const space = pending.indexOf(0x20);
        if (space < 0) break;
        const digits = pending.subarray(0, space).toString('ascii');
        if (!/^[1-9]\d{0,8}$/.test(digits)) {
          errors.push(`bad frame length ${JSON.stringify(digits)}`);
          socket.destroy();
          return;
        }
        const length = Number(digits);
        if (pending.length < space + 1 + length) break;
        messages.push(pending.subarray(space + 1, space + 1 + length).toString('utf8'));
        pending = pending.subarray(space + 1 + length);
      }
    });
  };
  return {
    messages,
    errors,
    get connections() {
      return connections;
    },
    listen: (port) =>
      new Promise<void>((resolve, reject) => {
        server = createServer(onConnection);
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    },
  };
}
