import PDFDocument from 'pdfkit';
import type { ReportDocument } from './report-sections.js';

/**
 * The report as a PDF (A4, pdfkit's built-in Helvetica: nothing to download or embed).
 * Tables are written a row a line, cells separated by " | ", so the text stays searchable.
 */
export function reportPdf(doc: ReportDocument): Promise<Buffer> {
  const pdf = new PDFDocument({ size: 'A4', margin: 50, info: { Title: doc.title, Creator: 'Gatehouse' } });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  pdf.font('Helvetica-Bold').fontSize(16).text(doc.title);
  pdf.font('Helvetica').fontSize(10).text(doc.subtitle).moveDown();
  for (const section of doc.sections) {
    pdf.font('Helvetica-Bold').fontSize(12).text(section.title).moveDown(0.3);
    for (const [term, value] of section.facts ?? []) {
      pdf.font('Helvetica-Bold').fontSize(10).text(`${term}: `, { continued: true });
      pdf.font('Helvetica').text(value);
    }
    const table = section.table;
    if (table) {
      pdf.moveDown(0.3).font('Helvetica-Oblique').text(table.caption);
      if (table.rows.length === 0) pdf.font('Helvetica').text(table.empty);
      else {
        pdf.font('Helvetica-Bold').text(table.head.join(' | '));
        for (const row of table.rows) pdf.font('Helvetica').text(row.join(' | '));
      }
    }
    pdf.moveDown();
  }
  pdf.end();
  return done;
}
