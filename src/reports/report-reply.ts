import type { FastifyReply } from 'fastify';
import { reportHtml } from './report-html.js';
import { reportPdf } from './report-pdf.js';
import type { ReportDocument } from './report-sections.js';

/** Answers with the report as an HTML page or a PDF download named `<name>.pdf`. */
export async function sendReport(
  reply: FastifyReply,
  doc: ReportDocument,
  format: 'html' | 'pdf',
  name: string,
): Promise<void> {
  if (format === 'pdf') {
    await reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `attachment; filename="${name}.pdf"`)
      .send(await reportPdf(doc));
    return;
  }
  await reply.header('content-type', 'text/html; charset=utf-8').send(await reportHtml(doc));
}

export const REPORT_CONTENT = {
  'text/html': { schema: { type: 'string' } },
  'application/pdf': { schema: { type: 'string', format: 'binary' } },
};
