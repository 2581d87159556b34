import { z } from 'zod';
import { plainText } from '../common/zod-validation.js';

/** The only orders the search offers (never passed into SQL as given): by the chain's seq. */
export const AUDIT_SORTS = { newest: 'DESC', oldest: 'ASC' } as const;
export type AuditSort = keyof typeof AUDIT_SORTS;

const isoTime = z.iso.datetime({ offset: true });

/** from (inclusive) must come before to (exclusive): an inverted range is a mistake, not an empty page. */
const timeRangeInOrder = (q: { from?: string; to?: string }) =>
  !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to);
const inverted = { error: '`from` must be before `to`', path: ['from'] };

/** Filters shared by the search and the export; each is an exact match (ruleId: one of the record's rules). */
const filterFields = {
  from: isoTime.optional(),
  to: isoTime.optional(),
  eventType: plainText(100).optional(),
  deviceId: plainText(200).optional(),
  /** Devices in this group now (their assigned groups and the policy's groups). */
  deviceGroup: plainText(128).optional(),
  remoteUser: plainText(256).optional(),
  enterprise: plainText(256).optional(),
  actor: plainText(256).optional(),
  outcome: plainText(100).optional(),
  requestId: plainText(200).optional(),
  ruleId: plainText(200).optional(),
  ticket: plainText(128).optional(),
};

export const auditSearchSchema = z
  .strictObject({
    ...filterFields,
    sort: z.enum(Object.keys(AUDIT_SORTS) as [AuditSort]).default('newest'),
    /** The `nextCursor` of the previous page. */
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .refine(timeRangeInOrder, inverted);
export type AuditSearchQuery = z.infer<typeof auditSearchSchema>;
export type AuditFilters = Omit<AuditSearchQuery, 'sort' | 'cursor' | 'limit'>;

export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export const auditExportSchema = z
  .strictObject({
    format: z.enum(AUDIT_EXPORT_FORMATS).default('jsonl'),
    from: filterFields.from,
    to: filterFields.to,
  })
  .refine(timeRangeInOrder, inverted);
export type AuditExportQuery = z.infer<typeof auditExportSchema>;
