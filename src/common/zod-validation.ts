import { applyDecorators, Body, Query, type PipeTransform } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiError, ErrorCode, type ErrorDetail } from './api-error.js';

export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => {
    const field = issue.path.join('.') || undefined;
    if (issue.code === 'unrecognized_keys') {
      return { field, problem: `unknown field(s): ${issue.keys.join(', ')}` };
    }
    return { field, problem: issue.message };
  });
}

/** Validates with a zod schema; a failure is a 400 in the error shape naming every bad field. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly what: string,
  ) {}

  transform(value: unknown): z.infer<S> {
    // A JSON null is a body (refused unless the schema takes null); only no body is undefined.
    const result = this.schema.safeParse(this.what === 'body' ? value : (value ?? {}));
    if (!result.success) {
      throw new ApiError(ErrorCode.InvalidRequest, `Invalid ${this.what}`, zodDetails(result.error));
    }
    return result.data;
  }
}

function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  // io: 'input' documents what clients send (defaults are optional for them).
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** A validated JSON body; also documents it in OpenAPI. Use on the handler parameter. */
export function ValidBody<S extends z.ZodType>(schema: S): ParameterDecorator {
  return Body(new ZodPipe(schema, 'body'));
}

/** Accepts no body or `{}`; anything else (null, an array, a field) is a 400 naming what was sent. */
class NoBodyPipe implements PipeTransform<unknown, undefined> {
  transform(value: unknown): undefined {
    if (value === undefined) return undefined;
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (isObject && Object.keys(value).length === 0) return undefined;
    const details = isObject
      ? [{ problem: `unknown field(s): ${Object.keys(value).join(', ')}` }]
      : [
          {
            problem: `expected no body or {}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
          },
        ];
    throw new ApiError(ErrorCode.InvalidRequest, 'This route takes no body', details);
  }
}

/**
 * The body of a route that takes none: nothing, or `{}`. Anything else is a 400, so that a
 * client sending `{"status":"approved"}` to cancel or revoke learns it was not understood.
 */
export function NoBody(): ParameterDecorator {
  return Body(new NoBodyPipe());
}

/** Documents a request body schema on the handler (pair with ValidBody on the parameter). */
export function ApiBodySchema(schema: z.ZodType): MethodDecorator {
  return applyDecorators(ApiBody({ schema: openApiSchema(schema) as never }));
}

export function ValidQuery<S extends z.ZodType>(schema: S): ParameterDecorator {
  return Query(new ZodPipe(schema, 'query'));
}

/** Documents each query parameter of an object schema. */
export function ApiQuerySchema(schema: z.ZodObject): MethodDecorator {
  const json = openApiSchema(schema) as { properties?: Record<string, object>; required?: string[] };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, prop]) =>
      ApiQuery({ name, required: json.required?.includes(name) ?? false, schema: prop as never }),
    ),
  );
}

/**
 * Free text (comments, reasons, descriptions): any character but NUL, which PostgreSQL text
 * and jsonb cannot hold. Refused here, with a 400 naming the field, rather than failing the
 * insert (a decision's insert fails with every decision committed beside it).
 */
export function freeText(max: number) {
  return z
    .string()
    .max(max, { error: `expected at most ${max} characters` })
    .refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL characters' });
}

/** Text without control characters (PostgreSQL refuses NUL; the rest has no business in names). */
export function plainText(max: number) {
  return (
    z
      .string()
      .min(1)
      .max(max)
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { error: 'must not contain control characters' })
  );
}
