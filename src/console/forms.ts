import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { endAccessSchema, endEnterpriseAccessSchema } from '../access/access.dto.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';

/** Every form posts its CSRF token (CsrfGuard checks it; the schemas only let it through). */
export const CSRF_FIELD = { _csrf: z.string().optional() };

/** Reads a form with a zod schema; a bad form is a 400 page naming each field. */
export function parseForm<S extends z.ZodType>(schema: S, request: FastifyRequest): z.infer<S> {
  const parsed = schema.safeParse(request.body ?? {});
  if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
  return parsed.data;
}

/** "End now" (a request's, a device's): the API's reason rule, and "Yes, end it now" ticked. */
export const endAccessForm = z.strictObject({
  ...CSRF_FIELD,
  reason: endAccessSchema.shape.reason,
  confirm: z.literal('yes', { error: 'tick "Yes, end it now" to confirm' }),
});

/** "End a vendor's access everywhere": the API's body (POST /api/v1/access/end) and the confirmation. */
export const endEnterpriseAccessForm = endAccessForm.extend({
  enterprise: endEnterpriseAccessSchema.shape.enterprise,
});
