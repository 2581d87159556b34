import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Helmet's security headers, worked out once at start. @fastify/helmet rebuilt helmet's
 * middleware (parsing the CSP directives) on every request: ~6% of the server's CPU on the
 * decision endpoint under load (bench:decisions, server profile). The headers do not depend
 * on the request, so they are computed here and set as they are.
 */
export function securityHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: Error | undefined;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) failure = error instanceof Error ? error : new Error('helmet refused its options');
  });
  if (failure) throw failure;
  return Object.freeze(headers);
}

/**
 * Gatehouse's settings: its own pages only, no framing; HSTS and upgrades only with TLS.
 * Nothing is cached (`Cache-Control: no-store`): answers carry tokens (sign-in, setup,
 * enrollment tokens, device credentials) and patient-adjacent records, and a route that
 * forgot to say so must not leave a secret in a proxy's or browser's cache.
 */
export function gatehouseSecurityHeaders(tls: boolean): Readonly<Record<string, string>> {
  return Object.freeze({ ...helmetHeaders(tls), 'cache-control': 'no-store' });
}

function helmetHeaders(tls: boolean): Readonly<Record<string, string>> {
  return securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        // Without TLS (a lab set-up) upgrading would break the docs page's own assets.
        upgradeInsecureRequests: tls ? [] : null,
      },
    },
    hsts: tls ? { maxAge: 31536000, includeSubDomains: true } : false,
  });
}
