import { spawn, type ChildProcess } from 'node:child_process';
import { ADMIN_PASSWORD } from './test-app.js';
import { gatehouseEntry } from './gatehouse-entry.js';
import { freePort } from './free-port.js';

/** Gatehouse as a real process (the build when fresh, else `src/main.ts` through the swc hooks: test/support/gatehouse-entry.ts). */
export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  output: () => string;
  /** kill -9: no shutdown code runs. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again (after kill9 or stop) with the same environment on the same port: the same URL. */
  restart(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the server and resolves when it logs that it listens (rejects if it exits first). */
export async function startServerProcess(
  env: Record<string, string>,
  startTimeoutMs = 180_000,
): Promise<ServerProcess> {
  // A fixed PORT in env (a replica started again where its clients expect it), else a free one.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'info',
    POLICIES_DIR: 'policies',
    GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    HOST: '127.0.0.1',
    PORT: String(port),
    ...env,
  };
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  let current = await launch(childEnv, startTimeoutMs);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    get child() {
      return current.child;
    },
    output: () => current.output(),
    kill9: async () => {
      current.child.kill('SIGKILL');
      await exited(current.child);
    },
    stop: async () => {
      current.child.kill('SIGTERM');
      await exited(current.child);
    },
    restart: async () => {
      if (current.child.exitCode === null && current.child.signalCode === null) {
        throw new Error('restart() needs the process to have exited (kill9 or stop first)');
      }
      current = await launch(childEnv, startTimeoutMs);
    },
  };
}

/** One process of the server, resolved once it listens. */
async function launch(
  childEnv: NodeJS.ProcessEnv,
  startTimeoutMs: number,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, gatehouseEntry('src/main.ts'), {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Gatehouse did not listen within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Gatehouse listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Gatehouse exited (${code ?? signal}) before listening:\n${output.slice(-3000)}`));
    });
  });
  try {
    await listening;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, output: () => output };
}
