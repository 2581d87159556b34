/**
 * A TCP proxy between Gatehouse and the Samba DC, to make the real directory slow, cut off in
 * the middle of an answer, or gone. TLS passes through untouched (the certificate is still checked
 * end to end, against the name in LDAP_TLS_SERVERNAME).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far (each LDAPS connection Gatehouse opened). */
  readonly connections: number;
  /** Delay every chunk from the directory by this long (0: none). */
  setDelay(ms: number): void;
  /** Cut each new connection once the directory has sent this many bytes on it (undefined: never). */
  cutAfterBytes(bytes: number | undefined): void;
  /** Stop listening and drop every connection: the directory is "down". */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let delayMs = 0;
  let cutAfter: number | undefined;
  let connections = 0;
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const handle = (client: Socket) => {
    connections++;
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const limit = cutAfter;
    let sent = 0;
    let queue = Promise.resolve();
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      queue = queue.then(async () => {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        if (limit !== undefined && sent + chunk.length > limit) {
          client.write(chunk.subarray(0, Math.max(0, limit - sent)));
          drop();
          return;
        }
        sent += chunk.length;
        if (!client.destroyed) client.write(chunk);
      });
    });
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', () => {
        sockets.delete(s);
        drop();
      });
    }
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer(handle);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    get connections() {
      return connections;
    },
    setDelay: (ms) => void (delayMs = ms),
    cutAfterBytes: (bytes) => void (cutAfter = bytes),
    stop,
    start: listen,
    close: stop,
  };
}
