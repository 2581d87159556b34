import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { enrollDevice } from '../support/agent.js';
import { login, startTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);

/** What a vendor does: `npm install` the SDK's tarball into their own project, and use it. */
const VENDOR_SCRIPT = `
import { GatehouseAgent, GatehouseUnreachable, verifyOfflinePolicy } from '@gatehouse/agent-sdk';
const [url, credential] = process.argv.slice(2);
const agent = new GatehouseAgent({ urls: [url], deviceId: 'ct-vendor', credential });
const answer = await agent.decide({ action: 'log-upload', remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical' } });
const offline = await agent.refreshOfflinePolicy();
console.log(JSON.stringify({ decision: answer.decision, offlineVersion: offline.policy.version,
  verify: typeof verifyOfflinePolicy, unreachable: typeof GatehouseUnreachable }));
`;

describe('the SDK as a package (npm pack, then npm install from the tarball)', () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp();
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-vendor-'));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs, imports and talks to Gatehouse, and its bin runs', async () => {
    await run(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'sdk/tsconfig.json']);
    await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: 'sdk' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^gatehouse-agent-sdk-.*\.tgz$/);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'vendor-agent', private: true, type: 'module' }));
    writeFileSync(join(dir, 'agent.mjs'), VENDOR_SCRIPT);
    // The dependencies (@casl/ability, @ucast/mongo2js) come from npm's cache when it has them.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${tarball}`], {
      cwd: dir,
    });

    const admin = await login(app.baseUrl);
    const credential = await enrollDevice(app.baseUrl, admin, { deviceId: 'ct-vendor', model: 'SOMATOM X.cite' });
    const out = await run(process.execPath, ['agent.mjs', app.baseUrl, credential], { cwd: dir });
    expect(JSON.parse(out.stdout)).toMatchObject({ decision: 'allow', verify: 'function', unreachable: 'function' });

    const sim = await run(join(dir, 'node_modules/.bin/gatehouse-agent-sim'), ['--devices', '0'], { cwd: dir }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(sim).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: gatehouse-agent-sim') });
  }, 180_000);
});
