import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { errorBodySchema, ERROR_SCHEMA_REF } from './api-responses.js';

/** The security schemes the access decorators (auth/permissions.decorator.ts) name. */
export const SECURITY_SCHEME = {
  staff: 'staffSession',
  device: 'deviceCredential',
  enrollment: 'enrollmentToken',
  metrics: 'metricsToken',
} as const;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const METHODS_WITH_BODY = new Set<string>(['post', 'put', 'patch', 'delete']);

/**
 * Builds the OpenAPI document and serves it at /api/docs (JSON at /api/docs/openapi.json).
 *
 * OpenAPI 3.1: zod writes JSON Schema 2020-12 (numeric exclusiveMinimum, const, …), which
 * is 3.1's schema dialect and not 3.0's. Each route documents its success body
 * (ApiSuccess) and its own errors (ApiErrors); its access decorator writes its security
 * and the errors of its kind; test/http/openapi checks every route for all of that.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Gatehouse API')
    .setDescription(
      'The agent and staff API of Gatehouse. Every error has the shape {"error": {"code", "message", "details"}} ' +
        '(the Error schema). x-gatehouse-access on each operation says who may call it.',
    )
    .setVersion('1')
    // Each hospital runs its own Gatehouse: the API is at the host that serves this document.
    .addServer('/')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'A staff session token from POST /api/v1/auth/login' },
      SECURITY_SCHEME.staff,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'A device credential from POST /api/v1/agent/enroll' },
      SECURITY_SCHEME.device,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'An enrollment token from POST /api/v1/enrollment-tokens' },
      SECURITY_SCHEME.enrollment,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (GET /metrics)' },
      SECURITY_SCHEME.metrics,
    )
    .build();
  const document = completeDocument(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
}

/** What decorators cannot write: the shared components and the rules that depend on the HTTP method. */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  const errorJson = z.toJSONSchema(errorBodySchema, { io: 'output' }) as Record<string, unknown>;
  delete errorJson.$schema;
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, Error: errorJson as never },
  };
  // Only the API and Prometheus' /metrics: the console's HTML pages (under /) are not part of it.
  for (const path of Object.keys(document.paths)) {
    if (!path.startsWith('/api/') && !path.startsWith('/health/') && path !== '/metrics') delete document.paths[path];
  }
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      // Nest drops an empty security list, and without one a route reads as "unspecified".
      if ((operation as { 'x-gatehouse-access'?: string })['x-gatehouse-access'] === 'public') operation.security = [];
      // Any request with a body may be over the parser's limit (json-body.ts).
      if (METHODS_WITH_BODY.has(method) && !operation.responses['413']) {
        operation.responses['413'] = {
          description: 'Request body over the size limit',
          content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } },
        };
      }
    }
  }
  return document;
}
