import { z } from 'zod';
import { actionNameSchema } from '../devices/devices.dto.js';
import { uuidSchema } from '../users/users.dto.js';
import { freeText, plainText } from '../common/zod-validation.js';

const text = (max: number) => plainText(max);

export const decideSchema = z.strictObject({
  requestId: uuidSchema,
  action: actionNameSchema,
  remoteUser: z.strictObject({
    id: text(256),
    enterprise: text(128).optional(),
    groups: z.array(text(128)).max(50).optional(),
  }),
  target: z
    .strictObject({
      path: freeText(1024).min(1).optional(),
      package: text(256).optional(),
      version: text(128).optional(),
      sha256: z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, { error: 'expected 64 hexadecimal digits' })
        .optional(),
    })
    .optional(),
  context: z
    .strictObject({
      ticket: text(128).optional(),
      reason: freeText(2000).optional(),
    })
    .optional(),
});
export type DecideBody = z.infer<typeof decideSchema>;

export const waitQuerySchema = z.strictObject({
  wait: z.coerce.number().int().min(0).max(60).default(0),
});

export const completeSchema = z.strictObject({
  outcome: z.enum(['succeeded', 'failed', 'aborted']),
  startedAt: z.iso.datetime({ offset: true }).optional(),
  endedAt: z.iso.datetime({ offset: true }).optional(),
  detail: freeText(2000).optional(),
  /** The operator's consent at the device, when the allow carried the local-consent obligation (1.1). */
  consent: z
    .strictObject({
      by: text(200),
      at: z.iso.datetime({ offset: true }),
    })
    .optional(),
});
