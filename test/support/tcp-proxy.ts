/**
 * A TCP proxy between Gatehouse and a real server (the Samba DC, PostgreSQL), to make it slow,
 * cut off in the middle of an answer, silent (frozen), or gone. TLS passes through untouched (the
 * certificate is still checked end to end, against the name in LDAP_TLS_SERVERNAME).
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
  /**
   * Stop moving bytes either way, on every connection, without closing any: the server is
   * "hung" (sockets stay open, nothing arrives). New connections are accepted and hang too.
   */
  freeze(): void;
  /** Deliver what was held back, in order, and move bytes again. */
  thaw(): void;
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
  let frozen = false;
  const held: (() => void)[] = [];
  /** Sends now, or when thawed (keeping the order of everything held). */
  const pass = (send: () => void) => (frozen ? held.push(send) : send());

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
    client.on('data', (chunk) => pass(() => upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => {
      queue = queue.then(async () => {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        if (limit !== undefined && sent + chunk.length > limit) {
          client.write(chunk.subarray(0, Math.max(0, limit - sent)));
          drop();
          return;
        }
        sent += chunk.length;
        pass(() => {
          if (!client.destroyed) client.write(chunk);
        });
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
    freeze: () => void (frozen = true),
    thaw: () => {
      frozen = false;
      for (const send of held.splice(0)) send();
    },
    cutAfterBytes: (bytes) => void (cutAfter = bytes),
    stop,
    start: listen,
    close: stop,
  };
}
