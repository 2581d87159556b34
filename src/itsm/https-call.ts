import { request } from 'node:https';
import { ItsmUnavailableError } from './itsm-errors.js';

export interface HttpsAnswer {
  status: number;
  body: string;
}

/** Answers larger than this are cut off: a ticket is a few hundred bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * One HTTPS call with the certificate verified (against `ca` when given, else the system's
 * CAs) and a deadline on the whole exchange, not only on silence: a slow ServiceNow is an
 * unavailable one. Network failures and the deadline are ItsmUnavailableError.
 */
export function httpsCall(
  url: string,
  options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; ca?: Buffer; timeoutMs: number },
): Promise<HttpsAnswer> {
  return new Promise<HttpsAnswer>((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method,
        ca: options.ca,
        headers: {
          ...options.headers,
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) req.destroy(new ItsmUnavailableError('ServiceNow sent an answer over 1 MiB'));
          else chunks.push(c);
        });
        res.on('error', (e) => reject(unavailable(e)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    const timer = setTimeout(
      () => req.destroy(new ItsmUnavailableError(`no answer from ServiceNow within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => reject(unavailable(e)));
    req.end(options.body);
  });
}

const unavailable = (e: Error) =>
  e instanceof ItsmUnavailableError ? e : new ItsmUnavailableError(`ServiceNow could not be reached: ${e.message}`);
