import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerChild, waitReady } from '../bench-server.js';
import type { LaunchReplica } from './replica.js';

// dist/bench/ha-drill/ → the repository (policies/ is read from there).
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The compiled server (dist/src/main.js), as the hospital runs it; resolves once it is ready. */
export const launchCompiled: LaunchReplica = async (env) => {
  const server = new ServerChild(
    spawn(process.execPath, [resolve(ROOT, 'dist', 'src', 'main.js')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    }),
  );
  await waitReady(`http://${env.HOST}:${env.PORT}`, server);
  return {
    kill9: async () => {
      server.child.kill('SIGKILL');
      await server.exited;
    },
    stop: () => server.stop(),
  };
};
