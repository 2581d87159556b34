import { z } from 'zod';

export const REPORT_FORMATS = ['html', 'pdf'] as const;

export const interventionReportQuerySchema = z.strictObject({
  format: z.enum(REPORT_FORMATS).default('html'),
});
export type InterventionReportQuery = z.infer<typeof interventionReportQuerySchema>;
