import { z } from 'zod';

/** The bodies the users API answers (OpenAPI; checked against real answers by test/http/openapi). */
export const userViewSchema = z.object({
  id: z.uuid(),
  username: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  source: z.enum(['local', 'directory']),
  disabled: z.boolean(),
  groups: z.array(z.string()).describe('Names of the groups the user is a member of'),
  createdAt: z.iso.datetime(),
});

export const groupSchema = z.object({
  name: z.string(),
  source: z.enum(['local', 'directory']),
  description: z.string(),
});

export const groupWithMembersSchema = groupSchema.extend({
  members: z.array(z.string()).describe('User names of the members'),
});
