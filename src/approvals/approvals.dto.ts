import { z } from 'zod';
import { actionNameSchema } from '../devices/devices.dto.js';
import { freeText, plainText } from '../common/zod-validation.js';

/** Longest grant anyone may ask for; each rule's maxGrantMinutes is the real limit. */
export const MAX_GRANT_MINUTES = 7 * 24 * 60;
export const COMMENT_MAX = 2000;

const comment = freeText(COMMENT_MAX).optional();

export const approveSchema = z.strictObject({
  comment,
  grantMinutes: z.number().int().min(1).max(MAX_GRANT_MINUTES).optional(),
});
export type ApproveBody = z.infer<typeof approveSchema>;

export const rejectSchema = z.strictObject({ comment });
export type RejectBody = z.infer<typeof rejectSchema>;

/** Break-glass: the reason must say what the emergency is, not "urgent" (issue 14). */
export const BREAK_GLASS_REASON_MIN = 20;

export const breakGlassSchema = z.strictObject({
  reason: freeText(COMMENT_MAX).refine((s) => s.trim().length >= BREAK_GLASS_REASON_MIN, {
    error: `expected at least ${BREAK_GLASS_REASON_MIN} characters saying why this cannot wait`,
  }),
  grantMinutes: z.number().int().min(1).max(MAX_GRANT_MINUTES).optional(),
});
export type BreakGlassBody = z.infer<typeof breakGlassSchema>;

export const reviewSchema = z.strictObject({
  verdict: z.enum(['accept', 'incident']),
  comment: freeText(COMMENT_MAX).refine((s) => s.trim().length > 0, { error: 'expected a comment' }),
});
export type ReviewBody = z.infer<typeof reviewSchema>;

export const QUEUE_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled', 'all'] as const;
/** The only fields the queue sorts by (never passed into SQL as given). */
export const QUEUE_SORTS = { createdAt: 'created_at', expiresAt: 'expires_at' } as const;

export const queueQuerySchema = z.strictObject({
  status: z.enum(QUEUE_STATUSES).default('pending'),
  deviceGroup: plainText(128).optional(),
  action: actionNameSchema.optional(),
  deviceId: plainText(200).optional(),
  /** Only requests at least / at most this old. */
  minAgeMinutes: z.coerce.number().int().min(0).max(1_000_000).optional(),
  maxAgeMinutes: z.coerce.number().int().min(0).max(1_000_000).optional(),
  /** Only break-glass allows that no other approver has reviewed yet (use with status=all or approved). */
  needsReview: z.enum(['true', 'false']).optional(),
  sort: z.enum(Object.keys(QUEUE_SORTS) as [keyof typeof QUEUE_SORTS]).default('createdAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
  /** The `nextCursor` of the previous page. */
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type QueueQuery = z.infer<typeof queueQuerySchema>;

export const grantsQuerySchema = z.strictObject({
  /** Live grants only (default), or ended and expired ones too. */
  live: z.enum(['true', 'false']).default('true'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
