import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

describe('gatehouse-agent-sim', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp({ env: { DEVICE_RATE_BURST: '10000' } })));
  afterAll(async () => app?.close());

  it('plays 5 devices for a few seconds: they enroll, and their decisions are in the audit trail', async () => {
    const admin = await login(app.baseUrl);
    const token = await api(app.baseUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: admin,
      body: { expiresInHours: 1, maxUses: 5 },
    });
    const args = ['--url', app.baseUrl, '--token', token.body.token, '--devices', '5', '--seconds', '3'];
    const child = spawn(
      process.execPath,
      ['--import', './test/support/ts-register.mjs', 'sdk/src/simulator/cli.ts', ...args, '--think-ms', '200'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect([code, out]).toEqual([0, expect.stringContaining('"enrolled":5')]);
    const counts = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
    const decided = counts.allow + counts.deny + counts.pending;
    expect(decided).toBeGreaterThanOrEqual(5);
    expect(counts.errors).toBe(0);

    const records = (await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=decision&limit=500', { token: admin })).body
      .items as { deviceId: string | null }[];
    expect(records).toHaveLength(decided);
    expect(new Set(records.map((r) => r.deviceId)).size).toBe(5);
    expect(records.every((r) => r.deviceId?.startsWith('sim-'))).toBe(true);
  });

  it('refuses a bad argument with the usage, before doing anything', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        './test/support/ts-register.mjs',
        'sdk/src/simulator/cli.ts',
        '--url',
        app.baseUrl,
        '--devices',
        'x',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEHOUSE_ENROLLMENT_TOKEN: 't' } },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(2);
    expect(err).toContain('--devices: expected a whole number');
  });
});
