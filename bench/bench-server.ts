import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** Shared by the benches that run the compiled app in a child process against PostgreSQL. */

export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SERVER_START_TIMEOUT_MS = 60_000;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_ADMIN_PASSWORD = 'bench-gatehouse-password-0123';

/** PostgreSQL (a URL) or the embedded database in a data folder. */
export type BenchDatabase = string | { dataDir: string };

/**
 * The compiled app (dist/src/main.js) on PostgreSQL (or the embedded database) with the example
 * policy set, its per-device rate limit at the highest the configuration accepts (the benches
 * drive thousands of requests a second from a few devices). `profileDir`: write a CPU profile.
 * `env`: more settings (e.g. EMBEDDED_SHARED_BUFFERS_MB).
 */
export function startGatehouse(
  database: BenchDatabase,
  port: number,
  profileDir?: string,
  env: Record<string, string> = {},
): ServerChild {
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${profileDir}`] : [];
  const where = typeof database === 'string' ? { DATABASE_URL: database } : { GATEHOUSE_DATA_DIR: database.dataDir };
  const child = spawn(process.execPath, [...profile, resolve(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      ...where,
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEHOUSE_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
      POLICIES_DIR: 'policies',
      LOG_LEVEL: 'warn',
      DEVICE_RATE_PER_SECOND: '10000',
      DEVICE_RATE_BURST: '100000',
      ...env,
    },
  });
  return new ServerChild(child);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server in a child process, with the tail of its output for error messages. */
export class ServerChild {
  private readonly tailLines: string[] = [];
  lines = 0;
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.lines++;
        this.tailLines.push(line);
        if (this.tailLines.length > 20) this.tailLines.shift();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((r) => child.once('exit', () => r()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(n = 5): string {
    return this.tailLines.slice(-n).join('\n');
  }

  /** SIGTERM (graceful: requests in flight finish), SIGKILL if it has not exited in 30 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A JSON call to the API. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** The call's answer, or an error naming what was asked when its status is not `status`. */
export async function ensure<T extends { status: number; body: any }>(
  what: string,
  res: Promise<T>,
  status = 200,
): Promise<T> {
  const r = await res;
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
  return r;
}

/** Creates a local user in `groups` (as the admin) and signs them in: their access token. */
export async function staffToken(
  base: string,
  admin: string,
  user: { username: string; password: string; groups: string[] },
): Promise<string> {
  await ensure(`user ${user.username}`, call(base, 'POST', '/api/v1/users', { token: admin, body: user }), 201);
  const login = call(base, 'POST', '/api/v1/auth/login', {
    body: { username: user.username, password: user.password },
  });
  return (await ensure(`${user.username} login`, login)).body.accessToken as string;
}

/**
 * Enrolls `devices` through the API with one enrollment token (as the admin): their
 * credentials, in the same order.
 */
export async function enrollDevices(
  base: string,
  admin: string,
  devices: { deviceId: string; model: string }[],
): Promise<string[]> {
  const enrollment = await ensure(
    'enrollment token',
    call(base, 'POST', '/api/v1/enrollment-tokens', {
      token: admin,
      body: { expiresInHours: 1, maxUses: devices.length },
    }),
    201,
  );
  const credentials: string[] = [];
  for (const device of devices) {
    const res = await ensure(
      `enroll ${device.deviceId}`,
      call(base, 'POST', '/api/v1/agent/enroll', {
        token: enrollment.body.token as string,
        body: { ...device, site: 'Main campus' },
      }),
      201,
    );
    credentials.push(res.body.credential as string);
  }
  return credentials;
}

/** Waits for /health/ready, or fails with the server's last lines. */
export async function waitReady(base: string, server: ServerChild, timeoutMs = SERVER_START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!server.running) throw new Error(`Gatehouse exited during start-up:\n${server.tail()}`);
    try {
      const res = await fetch(`${base}/health/ready`);
      await res.text();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`Gatehouse was not ready after ${timeoutMs / 1000} s:\n${server.tail()}`);
}

/** Runs one statement as the PostgreSQL administrator (create and drop bench databases). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  client.on('error', (e) => console.error(`bench database connection failed: ${e.message}`));
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Cannot reach PostgreSQL at ${new URL(ADMIN_URL).host} (set BENCH_DATABASE_URL, or run with --http=off): ` +
        (error as Error).message,
      { cause: error },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database for a bench run; its URL. */
export async function createBenchDatabase(name: string): Promise<string> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
