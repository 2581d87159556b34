/**
 * `npm run sdk:types`: writes the SDK's types from Gatehouse's OpenAPI document. The document
 * comes from the app factory in-process (a throw-away embedded database, no port opened), so
 * nothing has to be running and the types always match this checkout's routes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { GENERATED_TYPES_FILE, sdkTypesSource } from './sdk-types.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-types-'));
try {
  const config = loadConfig({ GATEHOUSE_DATA_DIR: dataDir, POLICIES_DIR: 'policies', LOG_LEVEL: 'warn' });
  const quiet = new Writable({ write: (_chunk, _enc, done) => done() });
  const gatehouse = await createApp(config, { logDestination: quiet });
  try {
    await gatehouse.app.init();
    const res = await gatehouse.app.inject({ method: 'GET', url: '/api/docs/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`the OpenAPI document answered ${res.statusCode}`);
    writeFileSync(GENERATED_TYPES_FILE, await sdkTypesSource(JSON.parse(res.body) as object));
    console.log(`wrote ${GENERATED_TYPES_FILE}`);
  } finally {
    await gatehouse.app.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
