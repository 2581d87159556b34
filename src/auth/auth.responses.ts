import { z } from 'zod';

/** The bodies the sign-in API answers (login.service.ts, auth.controller.ts; checked by test/http/openapi). */
export const loginResultSchema = z.object({
  accessToken: z.string().describe('Send as `Authorization: Bearer <accessToken>`'),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('Seconds until the session ends'),
});

export const meSchema = z.object({
  username: z.string(),
  displayName: z.string(),
  source: z.enum(['local', 'directory']),
  groups: z.array(z.string()),
  roles: z.array(
    z.object({
      role: z.enum(['admin', 'approver', 'auditor', 'viewer']),
      devices: z.union([z.literal('*'), z.array(z.string())]).describe("'*' for all devices, else device groups"),
      via: z.array(z.string()).describe('The groups that give this role'),
      from: z.array(z.object({ group: z.string(), source: z.enum(['local', 'directory']) })),
    }),
  ),
});

export const setupStatusSchema = z.object({ setupRequired: z.boolean() });
export const setupDoneSchema = z.object({ username: z.string() });
