/** The baseline of the HTTP part: a bare node:http server in a child process (the entry file run with --serve-bare). */
import { spawn } from 'node:child_process';
import { ServerChild } from '../bench-server.js';
import { bareJsonServer } from '../bench-util.js';
import { DECISIONS_PATH } from './http-load.js';

/** About the size of Gatehouse's answer to the same request. */
const BARE_ANSWER = JSON.stringify({
  requestId: '00000000-0000-4000-8000-000000000000',
  decision: 'allow',
  status: 'allowed',
  reason: 'Allowed by acme-log-uploads',
  policies: ['acme-log-uploads'],
  validUntil: '2026-06-01T12:10:00.000Z',
});

/** Child mode: the bare server. It parses the body as a framework would, and answers BARE_ANSWER. */
export function serveBare(): void {
  const server = bareJsonServer(DECISIONS_PATH, BARE_ANSWER);
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
  // If the parent goes away, so does the server.
  process.on('disconnect', () => process.exit(0));
}

/**
 * A server in a child process that this bench started: its output is kept, not printed.
 * `entryFile`: the bench's entry script (dist/bench/decisions.bench.js), run with --serve-bare.
 */
export async function startBare(entryFile: string): Promise<{ server: ServerChild; port: number }> {
  const child = spawn(process.execPath, [entryFile, '--serve-bare'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const server = new ServerChild(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare server did not start in time')), 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`the bare server exited (code ${code}): ${server.tail()}`)));
  });
  return { server, port };
}
