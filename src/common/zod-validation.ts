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
 * Characters a reader cannot see or that reorder what they see: format characters (Cf: the
 * bidirectional controls U+202A-202E and U+2066-2069, the marks U+200E/F, zero-width U+200B-
 * 200D, U+FEFF, U+2060...) and control characters (Cc) but tab and line breaks. Approvers decide
 * on remote-user ids, targets and reasons: "‮txt.exe" must not read as "exe.txt".
 */
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const HIDDEN = /[\p{Cf}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

function hiddenCharacterProblem(s: string): string | undefined {
  const found = HIDDEN.exec(s)?.[0];
  if (found === undefined) return undefined;
  const code = `U+${found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return found === '\u0000'
    ? 'must not contain NUL characters'
    : `must not contain invisible, control or direction-changing characters (found ${code})`;
}

/**
 * Free text (comments, reasons, descriptions, paths): line breaks and tabs allowed; NUL (which
 * PostgreSQL text and jsonb cannot hold) and hidden characters refused here, with a 400 naming
 * the field, rather than failing the insert or misleading the approver who reads it.
 */
export function freeText(max: number) {
  return z
    .string()
    .max(max, { error: `expected at most ${max} characters` })
    .superRefine((s, ctx) => {
      const problem = hiddenCharacterProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** Text on one line, without control, format or direction-changing characters (names, ids). */
export function plainText(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .superRefine((s, ctx) => {
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      const problem = /[\u0000-\u001f\u007f]/.test(s)
        ? 'must not contain control characters'
        : hiddenCharacterProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}
