import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppConfig } from '../../config/config.schema.js';
import { renderEmail } from './email.js';
import type { NotificationPayload } from './outbox.js';

export const SEND_TIMEOUT_MS = 10_000;

/** Sends one notification; throws with the reason when the other side did not take it. */
export type Deliver = (recipients: string[], payload: NotificationPayload, deliveryId: string) => Promise<void>;

export function smtpTransport(config: AppConfig): Transporter | undefined {
  if (!config.SMTP_URL) return undefined;
  const url = new URL(config.SMTP_URL);
  return nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    // No silent downgrade: smtp:// must upgrade with STARTTLS unless plaintext is allowed.
    requireTLS: url.protocol === 'smtp:' && !config.SMTP_ALLOW_PLAINTEXT,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    tls: { minVersion: 'TLSv1.2' },
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
}

export function emailChannel(transport: Transporter, from: string): Deliver {
  return async (recipients, payload) => {
    const { subject, text } = renderEmail(payload);
    await transport.sendMail({ from, to: recipients, subject, text });
  };
}

/** The signature a receiver checks: HMAC-SHA256 over "<timestamp>.<body>" with the shared secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookChannel(url: string, secret: string, now: () => Date): Deliver {
  return async (_recipients, payload, deliveryId) => {
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-gatehouse-event': payload.event,
        'x-gatehouse-delivery': deliveryId,
        'x-gatehouse-timestamp': timestamp,
        'x-gatehouse-signature': webhookSignature(secret, timestamp, body),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`the webhook answered HTTP ${res.status}`);
  };
}
