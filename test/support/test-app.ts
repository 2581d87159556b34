import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createApp, type GatehouseApp } from '../../src/app.factory.js';
import type { Clock } from '../../src/common/clock.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

export const ADMIN_PASSWORD = 'correct-horse-battery-staple';

export interface TestApp extends GatehouseApp {
  baseUrl: string;
  db: TestDatabase;
  logs: string[];
  /** Closes at once (Nest's close) and drops the database made for it. */
  close(): Promise<void>;
}

/**
 * The real application on a real HTTP port (127.0.0.1, random), on a fresh database.
 * Logs are kept in memory (`logs`) instead of cluttering the test output.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; clock?: Clock; db?: TestDatabase } = {},
): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const config = loadConfig({
    LOG_LEVEL: 'info',
    POLICIES_DIR: 'policies',
    GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...db.env,
    ...options.env,
  });
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const gatehouse = await createApp(config, { clock: options.clock, logDestination });
  await gatehouse.app.listen({ port: 0, host: '127.0.0.1' });
  const address = gatehouse.app.getHttpServer().address() as AddressInfo;
  return {
    ...gatehouse,
    baseUrl: `http://127.0.0.1:${address.port}`,
    db,
    logs,
    close: async () => {
      await gatehouse.app.close();
      if (!options.db) await db.dispose();
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client for the tests. */
export async function api<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export async function login(baseUrl: string, username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
  const res = await api<{ accessToken: string }>(baseUrl, 'POST', '/api/v1/auth/login', {
    body: { username, password },
  });
  if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accessToken;
}
