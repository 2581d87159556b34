import { z } from 'zod';
import { freeText, plainText } from '../common/zod-validation.js';

/** Longest reason an approver may give; the agent shows it to the vendor's engineer. */
export const END_REASON_MAX = 500;

const reason = freeText(END_REASON_MAX)
  .refine((s) => s.trim().length > 0, { error: 'give a reason' })
  .describe('Why: recorded in the audit trail and sent to the agent ("Ended by <you>: <reason>")');

export const endAccessSchema = z.strictObject({ reason });
export type EndAccessBody = z.infer<typeof endAccessSchema>;

export const endEnterpriseAccessSchema = z.strictObject({
  enterprise: plainText(128).describe('The vendor enterprise, as agents report it in remoteUser.enterprise'),
  reason,
});
export type EndEnterpriseAccessBody = z.infer<typeof endEnterpriseAccessSchema>;
