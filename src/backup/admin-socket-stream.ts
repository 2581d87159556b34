import { existsSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { adminSocketPath } from '../auth/admin-socket.js';
import type { AppConfig } from '../config/config.schema.js';

/**
 * Asks a running server on the embedded database for a streamed answer through its admin
 * socket (src/auth/admin-socket.ts), as lines. Undefined when no server listens there: the
 * caller then opens the data folder itself.
 */
export async function linesFromRunningServer(
  config: AppConfig,
  path: string,
  what = 'the backup',
): Promise<AsyncIterable<string> | undefined> {
  if (config.DATABASE_URL) return undefined;
  const socketPath = adminSocketPath(config);
  if (!existsSync(socketPath)) return undefined;
  const res = await new Promise<IncomingMessage | undefined>((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST' }, resolve);
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A socket file left by a server that is gone: nobody listens.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(undefined);
      else reject(error);
    });
    req.end();
  });
  if (!res) return undefined;
  if (res.statusCode !== 200) {
    let text = '';
    for await (const chunk of res) text += String(chunk);
    throw new Error(`The running server refused the command (${res.statusCode}): ${text}`);
  }
  return lines(res, what);
}

async function* lines(res: IncomingMessage, what: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of res) {
      const parts = (rest + decoder.write(chunk as Buffer)).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
  } catch (error) {
    throw new Error(`The running server stopped sending ${what}: ${(error as Error).message}`, { cause: error });
  }
  if (!res.complete) throw new Error(`The running server stopped sending ${what} before its end`);
  if (rest + decoder.end()) throw new Error(`The running server stopped sending ${what} in the middle of a line`);
}
