import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReceivedMail } from '../support/notification-peers.js';

export const REPORT_RECIPIENTS = ['ct-reports@hosp.test', 'radiology-head@hosp.test'];

/**
 * The example policy set with reports for the CT scanners (to REPORT_RECIPIENTS, daily and
 * weekly digests), in a folder of its own; `dispose` removes it.
 */
export function policiesWithReports(): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-report-policies-'));
  cpSync('policies', dir, { recursive: true });
  const file = join(dir, 'device-groups.yaml');
  const text = readFileSync(file, 'utf8');
  const ct = '  - name: ct-scanners\n    match: { model: ["SOMATOM*", "Revolution*"] }\n';
  if (!text.includes(ct)) throw new Error('policies/device-groups.yaml changed: update policiesWithReports');
  writeFileSync(
    file,
    text.replace(ct, `${ct}    reports: { recipients: [${REPORT_RECIPIENTS.join(', ')}], digest: [daily, weekly] }\n`),
  );
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The attachment of a received mail with this content type, decoded from base64. */
export function attachment(mail: ReceivedMail, contentType: string): Buffer {
  const at = mail.raw.indexOf(`Content-Type: ${contentType}`);
  if (at < 0) throw new Error(`no ${contentType} attachment in the mail`);
  const body = mail.raw.slice(mail.raw.indexOf('\r\n\r\n', at) + 4);
  // Base64 lines up to the next MIME boundary ("--…"); the test server's QP undo may eat a "=\r\n" pad.
  const base64 = /^[A-Za-z0-9+/=\r\n]+/.exec(body)?.[0] ?? '';
  return Buffer.from(base64.replace(/[\r\n]/g, ''), 'base64');
}

/** The text of a PDF as Debian's pdftotext reads it. */
export function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-report-pdf-'));
  try {
    const file = join(dir, 'report.pdf');
    writeFileSync(file, pdf);
    return execFileSync('/usr/bin/pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
