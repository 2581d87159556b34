import { z } from 'zod';
import { plainText } from '../common/zod-validation.js';

export const REPORT_FORMATS = ['html', 'pdf'] as const;

export const interventionReportQuerySchema = z.strictObject({
  format: z.enum(REPORT_FORMATS).default('html'),
});
export type InterventionReportQuery = z.infer<typeof interventionReportQuerySchema>;

/** A calendar day (YYYY-MM-DD) that exists. */
const calendarDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date as YYYY-MM-DD' })
  .refine(
    (d) => {
      const t = Date.parse(`${d}T00:00:00Z`);
      return !Number.isNaN(t) && new Date(t).toISOString().startsWith(d); // 2026-02-30 is not a day
    },
    { error: 'no such date' },
  );

export const digestGroupSchema = plainText(128);

export const digestQuerySchema = z.strictObject({
  period: z.enum(['daily', 'weekly']).default('daily'),
  /** The day, or a day of the week (Monday to Sunday); default: the last whole one. */
  date: calendarDay.optional(),
  format: z.enum(REPORT_FORMATS).default('html'),
});
export type DigestQuery = z.infer<typeof digestQuerySchema>;
