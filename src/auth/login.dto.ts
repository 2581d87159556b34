import { z } from 'zod';
import { freeText, plainText } from '../common/zod-validation.js';

export const loginSchema = z.strictObject({
  username: plainText(256),
  password: z.string().min(1).max(1024),
});

export const setupSchema = z.strictObject({
  setupToken: z.string().min(1).max(256),
  username: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1-64 letters, digits, dots, dashes or underscores' }),
  displayName: freeText(200).min(1).optional(),
  password: z.string().min(1).max(1024),
});
