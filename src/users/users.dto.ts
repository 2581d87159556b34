import { z } from 'zod';
import { freeText } from '../common/zod-validation.js';

export const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1-64 letters, digits, dots, dashes or underscores' });
export const groupNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9 ._-]{1,128}$/, { error: 'expected 1-128 letters, digits, spaces, dots, dashes or underscores' });

export const createUserSchema = z.strictObject({
  username: usernameSchema,
  displayName: freeText(200).min(1).optional(),
  /** Where approval requests are e-mailed. */
  email: z.email({ error: 'expected an e-mail address' }).max(254).optional(),
  password: z.string().min(1).max(1024),
  groups: z.array(groupNameSchema).max(50).optional(),
});

export const updateUserSchema = z.strictObject({ disabled: z.boolean() });

export const setPasswordSchema = z.strictObject({ password: z.string().min(1).max(1024) });

export const createGroupSchema = z.strictObject({
  name: groupNameSchema,
  description: freeText(1000).default(''),
});

/**
 * A UUID, in lower case: PostgreSQL answers uuids in lower case, and the same request id in
 * another case must be the same request (idempotency, long-poll wake-ups, audit searches).
 */
export const uuidSchema = z.uuid({ error: 'expected a UUID' }).overwrite((s) => s.toLowerCase());
