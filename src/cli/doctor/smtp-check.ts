import { smtpTransport } from '../../approvals/notifications/channels.js';
import type { AppConfig } from '../../config/config.schema.js';
import { failed, ok, reason, skipped, type CheckResult } from './check.js';

const TITLE = 'E-mail (SMTP)';

const UNREACHABLE =
  'check the host and port in SMTP_URL, and that the firewall lets this machine reach the mail server';

const FIXES: Record<string, string> = {
  EAUTH: 'correct the user and password in SMTP_URL (smtp://user:password@host:587)',
  // nodemailer's codes for a server that cannot be reached.
  ESOCKET: UNREACHABLE,
  ECONNECTION: UNREACHABLE,
  ETIMEDOUT: UNREACHABLE,
  EDNS: UNREACHABLE,
  ETLS: "the mail server's TLS failed: use smtps:// for port 465, smtp:// (STARTTLS) for 587",
};

/**
 * Connects to SMTP_URL with the settings notifications use (src/approvals/notifications/channels.ts):
 * greeting, EHLO, STARTTLS and sign-in when SMTP_URL has a user; no mail is sent.
 */
export async function checkSmtp(config: AppConfig): Promise<CheckResult> {
  const transport = smtpTransport(config);
  if (!transport || !config.SMTP_URL) return skipped(TITLE, 'not configured (SMTP_URL unset): no e-mail to approvers');
  const url = new URL(config.SMTP_URL);
  const where = `SMTP_URL (${url.protocol}//${url.host})`;
  try {
    await transport.verify();
    return ok(TITLE, `${where} answered EHLO${url.username ? ' and accepted the sign-in' : ''}`);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const noStartTls = /STARTTLS/i.test(reason(error));
    return failed(
      TITLE,
      `${where}: ${reason(error)}`,
      noStartTls
        ? 'the server offers no STARTTLS: use smtps://, or (a relay on this host only) SMTP_ALLOW_PLAINTEXT=true'
        : (FIXES[code] ?? 'check SMTP_URL and that the mail server accepts connections from this machine'),
    );
  } finally {
    transport.close();
  }
}
