import { z } from 'zod';
import { freeText, plainText } from '../common/zod-validation.js';

/** Device ids as agents send them: short, plain, URL-safe. */
export const deviceIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
  error: 'expected 1-128 letters, digits, dots, dashes, colons or underscores',
});

export const actionNameSchema = z
  .string()
  .regex(
    /^(remote-session|file-upload|file-download|log-upload|software-install|script-run|config-change|restart|x-[a-z0-9][a-z0-9-]{0,62})$/,
    {
      error: 'expected an action of the catalogue or a custom x-<name>',
    },
  );

export const enrollSchema = z.strictObject({
  deviceId: deviceIdSchema,
  model: plainText(200),
  serialNumber: plainText(200).optional(),
  site: plainText(200).optional(),
  agentVersion: plainText(50).optional(),
  actions: z.array(actionNameSchema).max(50).optional(),
});

const stateValue = z.union([freeText(200), z.number(), z.boolean()]);
export const heartbeatSchema = z.strictObject({
  agentVersion: plainText(50).optional(),
  state: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/), stateValue)
    .refine((s) => Object.keys(s).length <= 32, { error: 'at most 32 state keys' })
    .optional(),
});

export const createEnrollmentTokenSchema = z.strictObject({
  deviceGroups: z.array(plainText(100)).max(50).optional(),
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 90),
  maxUses: z.number().int().min(1).max(10_000),
});

/** An administrator's change to a device (PATCH /devices/{id}); at least one field. */
export const updateDeviceSchema = z
  .strictObject({
    model: plainText(200).optional(),
    site: plainText(200).nullable().optional(),
    groupScope: z.array(plainText(100)).min(1).max(50).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { error: 'expected at least one of model, site, groupScope' });
