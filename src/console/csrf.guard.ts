import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { TokenService } from '../auth/token.service.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A CSRF refusal (403), told apart from the forms' own refusals so that it never re-shows a form. */
export class CsrfRefused extends ApiError {
  constructor(message: string) {
    super(ErrorCode.Forbidden, message);
  }
}

/** The synchronizer token of a session: derived from it, so nothing is stored and every replica agrees. */
export function csrfTokenFor(tokens: TokenService, sessionId: string): string {
  return tokens.sessionTag('console-csrf', sessionId);
}

/**
 * Every state-changing console request: from a page of this site (Origin, else
 * Sec-Fetch-Site), and, once signed in, carrying the session's token (form field or
 * X-CSRF-Token header for htmx). SameSite=Strict already keeps the cookie off other
 * sites' requests; these checks do not rely on the browser alone. A refusal is a 403,
 * which ConsoleErrorFilter audits.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (SAFE_METHODS.has(request.method)) return true;
    if (!this.fromThisSite(request))
      throw new CsrfRefused('Refused: the form was not sent from a Gatehouse page (CSRF)');
    const principal = request.principal;
    // Before sign-in (sign-in, setup) there is no session to bind to: the origin check stands alone.
    if (!principal) return true;
    const expected = Buffer.from(csrfTokenFor(this.tokens, principal.sessionId));
    const body = request.body as Record<string, unknown> | undefined;
    const sent = request.headers[CSRF_HEADER] ?? body?.[CSRF_FIELD];
    const given = Buffer.from(typeof sent === 'string' ? sent : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new CsrfRefused('Refused: the form has no valid CSRF token (reload the page and try again)');
    }
    return true;
  }

  private fromThisSite(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (typeof origin === 'string' && origin !== 'null') return this.allowedOrigins(request).includes(origin);
    // No Origin, or an opaque one: the browser's own Sec-Fetch-Site (no page can set it) must say same-origin.
    return request.headers['sec-fetch-site'] === 'same-origin';
  }

  private allowedOrigins(request: FastifyRequest): string[] {
    const own = `${request.protocol}://${request.host}`;
    return this.config.PUBLIC_URL ? [own, new URL(this.config.PUBLIC_URL).origin] : [own];
  }
}
