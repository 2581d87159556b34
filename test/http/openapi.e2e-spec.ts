import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';
import { CLIENT_USING_GENERATED_TYPES, compileGeneratedClient } from '../support/openapi-client.js';
import { documentedBodyProblems, operationsOf, type OpenApiDocument } from '../support/openapi-document.js';
import { askPending, createApprovalWorld, uploadBody, type ApprovalWorld } from '../support/approvers.js';
import { recordChangingRoutes } from '../support/openapi-journey.js';
import { decisionBody } from '../support/agent.js';

/**
 * The served OpenAPI document is what hospitals and vendors generate clients from: it must
 * validate, lint clean, describe every operation (success body, errors, security) and
 * match what the routes really answer. Every route is checked, so a new one must be
 * documented too (see README, "API document").
 */
describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  let world: ApprovalWorld;
  beforeAll(async () => {
    t = await startTestApp();
    world = await createApprovalWorld(t.baseUrl);
    const res = await api(t.baseUrl, 'GET', '/api/docs/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApiDocument;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('declares OpenAPI 3.1, whose schema dialect (JSON Schema 2020-12) zod writes', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('validates with swagger-parser', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('passes redocly lint (recommended rules) without an error or a warning', async () => {
    // Gatehouse is not published under a licence (package.json: UNLICENSED): none to name.
    const config = await createConfig({
      extends: ['recommended'],
      rules: { 'info-license': 'off', 'info-license-strict': 'off' },
    });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    expect(problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`)).toEqual([]);
  });

  it('describes every operation: its success body, its security and its errors in the shared error shape', () => {
    const expectedSecurity = (access: string | undefined) =>
      access === 'public'
        ? []
        : access === 'device credential'
          ? [{ deviceCredential: [] }]
          : access === 'enrollment token'
            ? [{ enrollmentToken: [] }]
            : access === 'metrics token'
              ? [{ metricsToken: [] }]
              : [{ staffSession: [] }];
    const problems: string[] = [];
    for (const { name, op } of operationsOf(doc)) {
      const access = op['x-gatehouse-access'];
      const success = Object.entries(op.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
      if (success.length !== 1) problems.push(`${name}: ${success.length} success responses`);
      for (const [status, response] of success) {
        const content = Object.entries(response.content ?? {});
        if (status !== '204' && content.length === 0) problems.push(`${name}: ${status} has no body schema`);
        for (const [type, media] of content)
          if (type === 'application/json' && !media.schema) problems.push(`${name}: ${status} body has no schema`);
      }
      if (JSON.stringify(op.security) !== JSON.stringify(expectedSecurity(access)))
        problems.push(`${name}: security ${JSON.stringify(op.security)} for ${access}`);
      const errors = Object.entries(op.responses ?? {}).filter(([status]) => /^[45]\d\d$/.test(status));
      for (const [status, response] of errors)
        if (response.content?.['application/json']?.schema?.$ref !== '#/components/schemas/Error')
          problems.push(`${name}: ${status} is not the shared error shape`);
      const statuses = errors.map(([status]) => status);
      const required = ['400', '503', ...(access === 'public' ? [] : ['401'])];
      if (access?.includes(' ') && !['device credential', 'enrollment token', 'metrics token'].includes(access))
        required.push('403');
      if (['post', 'put', 'patch', 'delete'].includes(name.split(' ')[0].toLowerCase())) required.push('413');
      for (const status of required)
        if (!statuses.includes(status)) problems.push(`${name}: ${status} is not documented`);
    }
    expect(problems).toEqual([]);
  });

  it('compiles a client generated from it (openapi-typescript, then tsc) for a decision and an approval', async () => {
    // The same client without its @ts-expect-error lines must not compile: the types are real, not `any`.
    const misuse = CLIENT_USING_GENERATED_TYPES.replace(/\/\/ @ts-expect-error.*\n/g, '');
    const diagnostics = await compileGeneratedClient(doc, {
      'client.ts': CLIENT_USING_GENERATED_TYPES,
      'misuse.ts': misuse,
    });
    expect(diagnostics.filter((d) => !d.startsWith('misuse.ts'))).toEqual([]);
    expect(diagnostics.filter((d) => d.startsWith('misuse.ts'))).toHaveLength(2);
  });

  it('documents the bodies the routes really answer: a decision, an approval, errors and every list', async () => {
    const answers: { method: string; path: string; route: string; status: number; body: unknown }[] = [];
    const call = async (method: string, route: string, path: string, token?: string, body?: unknown) => {
      const res = await api(t.baseUrl, method, path, { token, body });
      answers.push({ method, path, route, status: res.status, body: res.body });
      return res;
    };
    const requestId = await askPending(t.baseUrl, world.ct, uploadBody());
    await call('GET', '/api/v1/agent/decisions/{requestId}', `/api/v1/agent/decisions/${requestId}`, world.ct);
    await call('GET', '/api/v1/approvals/{requestId}', `/api/v1/approvals/${requestId}`, world.tokens.alice);
    const approve = `/api/v1/approvals/${requestId}/approve`;
    await call('POST', '/api/v1/approvals/{requestId}/approve', approve, world.tokens.alice, { comment: 'ok' });
    await call('POST', '/api/v1/approvals/{requestId}/approve', approve, world.tokens.alice, {});
    await call('POST', '/api/v1/agent/decisions', '/api/v1/agent/decisions', world.ct, decisionBody());
    await call('POST', '/api/v1/agent/decisions', '/api/v1/agent/decisions', world.ct, { action: 1 });
    const staff = await login(t.baseUrl);
    // Streams (events, exports) are not JSON: their bodies are checked by their own tests.
    const jsonAnswer = (path: string) => {
      const ok = (doc.paths as Record<string, { get?: { responses?: Record<string, { content?: object }> } }>)[path]
        ?.get?.responses?.['200'];
      return Object.keys(ok?.content ?? {}).includes('application/json');
    };
    for (const { method, path } of operationsOf(doc))
      if (method === 'get' && !path.includes('{') && jsonAnswer(path))
        await call('GET', path, path, path.startsWith('/api/v1/agent') ? world.ct : staff);

    expect(answers.map((a) => a.status)).toContain(409);
    expect(answers.map((a) => a.status)).toContain(400);
    expect(answers.flatMap((a) => documentedBodyProblems(doc, a.method, a.route, a.status, a.body))).toEqual([]);
  });

  it('documents the answers of the routes that change things: created, done, refused, not found, conflict', async () => {
    const answers = await recordChangingRoutes(t.baseUrl, world);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 201, 204, 401, 404, 409, 422]));
    expect(answers.flatMap((a) => documentedBodyProblems(doc, a.method, a.route, a.status, a.body))).toEqual([]);
  });
});
