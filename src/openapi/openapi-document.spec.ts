import { describe, expect, it } from '@jest/globals';
import type { OpenAPIObject } from '@nestjs/swagger';
import { completeDocument } from './openapi-document.js';

const operation = (access: string) => ({ 'x-gatehouse-access': access, responses: { '200': { description: 'ok' } } });

function documentWith(paths: Record<string, Record<string, object>>): OpenAPIObject {
  return { openapi: '3.1.0', info: { title: 't', version: '1' }, paths };
}

describe('completeDocument', () => {
  it("keeps the API and health checks, not the console's HTML pages", () => {
    const doc = completeDocument(
      documentWith({
        '/': { get: operation('public') },
        '/approvals/{id}': { get: operation('signed-in') },
        '/api/v1/users': { get: operation('read User') },
        '/health/live': { get: operation('public') },
      }),
    );
    expect(Object.keys(doc.paths)).toEqual(['/api/v1/users', '/health/live']);
  });

  it('says a public route needs no credentials, and that a body may be over the size limit', () => {
    const doc = completeDocument(
      documentWith({
        '/api/v1/auth/login': { post: operation('public') },
        '/health/live': { get: operation('public') },
      }),
    );
    const login = doc.paths['/api/v1/auth/login'].post!;
    expect(login.security).toEqual([]);
    expect(login.responses['413']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    expect(doc.paths['/health/live'].get!.responses['413']).toBeUndefined();
  });

  it('adds the shared error shape as the Error component', () => {
    const doc = completeDocument(documentWith({}));
    expect(doc.components?.schemas?.Error).toMatchObject({
      type: 'object',
      required: ['error'],
      properties: { error: { required: ['code', 'message', 'details'] } },
    });
  });
});
