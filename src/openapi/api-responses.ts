import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { ErrorCode } from '../common/api-error.js';

/** The one error shape of every route (api-error.ts); a component of the document, `Error`. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(ErrorCode),
    message: z.string(),
    details: z.array(z.looseObject({ field: z.string().optional(), problem: z.string() })),
  }),
});

export const ERROR_SCHEMA_REF = '#/components/schemas/Error';

/** What each error status means, said once so that every route says it alike. */
const ERROR_MEANING = {
  400: 'Invalid request: a bad body, query or path parameter; `details` names each field',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflicts with the current state (see the message)',
  413: 'Request body over the size limit',
  422: 'Well-formed but refused: the content does not validate (details say why)',
  429: 'Too many requests: retry after the time in the Retry-After header',
  500: 'Unexpected error: logged with the request id (x-request-id), nothing of it in the answer',
  503: 'Unavailable: Gatehouse is shutting down or its database does not answer; retry (an agent does not act)',
} as const;

export type ErrorStatus = keyof typeof ERROR_MEANING;

function errorResponse(status: ErrorStatus, description: string = ERROR_MEANING[status]) {
  return ApiResponse({ status, description, schema: { $ref: ERROR_SCHEMA_REF } });
}

/**
 * The error answers a route can give beyond those its access decorator documents
 * (400, 500, 503 everywhere; 401, 403 by access kind; 413 for bodies): e.g. 404, 409.
 * A description names what the status means on this route, where the standard one is vague.
 */
export function ApiErrors(...errors: (ErrorStatus | [ErrorStatus, string])[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...errors.map((e) => (Array.isArray(e) ? errorResponse(e[0], e[1]) : errorResponse(e))));
}

/** The errors every route can answer, whoever calls it. */
export function ApiStandardErrors(): MethodDecorator & ClassDecorator {
  return ApiErrors(400, 500, 503);
}

/**
 * The success answer of a route with its body's schema (zod, as JSON Schema 2020-12:
 * OpenAPI 3.1's dialect). `output` documents what the server sends: objects are closed,
 * so that a field the code adds without documenting it fails test/http/openapi.
 */
export function ApiSuccess(
  schema: z.ZodType,
  options: { status?: 200 | 201 | 202; description?: string } = {},
): MethodDecorator {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return ApiResponse({
    status: options.status ?? 200,
    description: options.description ?? 'Success',
    schema: json,
  });
}

/** A success answer without a body (204). */
export function ApiNoContent(description = 'Done; no body'): MethodDecorator {
  return ApiResponse({ status: 204, description });
}

/** A stream of server-sent events; its errors (before the stream starts) are JSON like any other. */
export function ApiEventStream(description: string): MethodDecorator {
  return ApiResponse({
    status: 200,
    description,
    content: { 'text/event-stream': { schema: { type: 'string', description: 'text/event-stream frames' } } },
  });
}
