import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { AppConfig } from '../../config/config.schema.js';
import { failed, ok, reason, skipped, warning, type CheckResult } from './check.js';

const TITLE = 'TLS certificate';
const DAY_MS = 24 * 3600 * 1000;
/** Under this, renewing is due: a warning (the alert rules use the same margin). */
export const CERTIFICATE_WARN_DAYS = 30;

const RENEW = 'install a renewed certificate in TLS_CERT_FILE (and its key in TLS_KEY_FILE), then restart Gatehouse';

/** TLS_CERT_FILE and TLS_KEY_FILE: readable, the key belongs to the certificate, not expired (nor soon). */
export function checkTls(config: AppConfig, now: Date): CheckResult[] {
  if (!config.tls) {
    return config.TRUST_PROXY
      ? [skipped(TITLE, 'TLS_CERT_FILE unset: HTTPS is expected to end at the proxy in front (TRUST_PROXY=true)')]
      : [
          warning(
            TITLE,
            'TLS_CERT_FILE and TLS_KEY_FILE are unset: Gatehouse serves plain HTTP (labs only)',
            "set TLS_CERT_FILE and TLS_KEY_FILE to the server's PEM certificate and key, or put an HTTPS proxy in front and set TRUST_PROXY=true",
          ),
        ];
  }
  const certFile = `TLS_CERT_FILE (${config.TLS_CERT_FILE})`;
  const keyFile = `TLS_KEY_FILE (${config.TLS_KEY_FILE})`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(config.tls.cert);
  } catch (error) {
    return [
      failed(
        TITLE,
        `${certFile} is not a readable PEM certificate (${reason(error)})`,
        'put the PEM certificate (-----BEGIN CERTIFICATE-----, followed by its intermediate certificates) in TLS_CERT_FILE',
      ),
    ];
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(config.tls.key);
  } catch (error) {
    return [
      failed(
        TITLE,
        `${keyFile} is not a readable private key (${reason(error)})`,
        'put the PEM private key, without a passphrase, in TLS_KEY_FILE',
      ),
    ];
  }
  if (!cert.checkPrivateKey(key)) {
    return [
      failed(
        TITLE,
        `the key in ${keyFile} does not belong to the certificate in ${certFile}`,
        'give TLS_KEY_FILE the key the certificate was issued for (or TLS_CERT_FILE the certificate of this key)',
      ),
    ];
  }
  const results: CheckResult[] = [];
  const validTo = new Date(cert.validTo);
  const validFrom = new Date(cert.validFrom);
  const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
  const subject = cert.subject.replaceAll('\n', ', ');
  if (validTo.getTime() <= now.getTime()) {
    results.push(
      failed(TITLE, `${certFile} expired on ${validTo.toISOString()}: browsers and agents refuse it`, RENEW),
    );
  } else if (validFrom.getTime() > now.getTime()) {
    results.push(
      failed(
        TITLE,
        `${certFile} is not valid before ${validFrom.toISOString()}`,
        "check this machine's clock, or install a certificate that is valid now",
      ),
    );
  } else if (daysLeft < CERTIFICATE_WARN_DAYS) {
    results.push(
      warning(
        TITLE,
        `${certFile} expires in ${daysLeft} day(s), on ${validTo.toISOString()}`,
        `renew it soon: ${RENEW}`,
      ),
    );
  } else {
    results.push(
      ok(TITLE, `${certFile} (${subject}) matches its key and is valid until ${validTo.toISOString().slice(0, 10)}`),
    );
  }
  const publicHost = config.PUBLIC_URL?.startsWith('https:') ? new URL(config.PUBLIC_URL).hostname : undefined;
  if (publicHost && !cert.checkHost(publicHost) && !cert.checkIP(publicHost)) {
    results.push(
      warning(
        TITLE,
        `the certificate in ${certFile} does not name PUBLIC_URL's host ${publicHost}: links in e-mails will show a certificate error`,
        'use a certificate whose subjectAltName includes that host, or correct PUBLIC_URL',
      ),
    );
  }
  return results;
}
