import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { adminSocketPath } from '../auth/admin-socket.js';
import type { AppConfig } from '../config/config.schema.js';

/**
 * Sends a command to a running server on the embedded database (src/auth/admin-socket.ts).
 * Undefined when no server listens there (no socket, or a dead one's): the CLI then opens the
 * database itself.
 */
export async function askRunningServer<T>(config: AppConfig, path: string, body: unknown): Promise<T | undefined> {
  if (config.DATABASE_URL) return undefined;
  const socketPath = adminSocketPath(config);
  if (!existsSync(socketPath)) return undefined;
  return new Promise<T | undefined>((resolve, reject) => {
    const req = request(
      { socketPath, path, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) return resolve(JSON.parse(text) as T);
          reject(new Error(`The running server refused the command (${res.statusCode}): ${text}`));
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('The running server did not answer within 30 s')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A socket file left by a server that is gone: nobody listens.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(undefined);
      else reject(error);
    });
    req.end(JSON.stringify(body));
  });
}
