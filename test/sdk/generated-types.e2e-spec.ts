import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GENERATED_TYPES_FILE, sdkTypesSource } from '../support/sdk-types.js';
import { api, startTestApp, type TestApp } from '../support/test-app.js';

describe("the SDK's generated types", () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp()));
  afterAll(async () => app?.close());

  it('are those of the served OpenAPI document (else run `npm run sdk:types`)', async () => {
    const doc = await api(app.baseUrl, 'GET', '/api/docs/openapi.json');
    expect(doc.status).toBe(200);
    const fresh = await sdkTypesSource(doc.body);
    // A plain boolean first: a 7,000-line diff is no help; the message says what to do.
    const upToDate = readFileSync(GENERATED_TYPES_FILE, 'utf8') === fresh;
    expect(upToDate ? 'up to date' : `${GENERATED_TYPES_FILE} is stale: run npm run sdk:types`).toBe('up to date');
  });
});
