import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenService } from '../auth/token.service.js';
import { APP_VERSION } from '../common/app-version.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { PolicyService } from '../policies/policy.service.js';
import { csrfTokenFor } from './csrf.guard.js';
import type { PageContext } from './page-context.js';

/**
 * The console's own CSP, stricter than the API docs' (no inline style): scripts, styles,
 * fetches and forms only from Gatehouse itself, never framed.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** Builds a page's context and sends pages with the console's headers. */
@Injectable()
export class ConsoleRenderer {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokenService,
    private readonly clock: Clock,
    private readonly policies: PolicyService,
  ) {}

  get timeZone(): string {
    return this.config.CONSOLE_TIME_ZONE;
  }

  /** Secure cookies whenever browsers reach Gatehouse over TLS (here or at a proxy in front). */
  get secureCookies(): boolean {
    return Boolean(this.config.tls) || (this.config.PUBLIC_URL?.startsWith('https:') ?? false);
  }

  context(request: FastifyRequest, extra: Partial<PageContext> = {}): PageContext {
    const staff = request.principal ?? null;
    return {
      staff,
      csrfToken: staff ? csrfTokenFor(this.tokens, staff.sessionId) : null,
      timeZone: this.config.CONSOLE_TIME_ZONE,
      path: request.url.split('?')[0],
      now: this.clock.now(),
      versions: { gatehouse: APP_VERSION, policySet: this.policies.set?.version ?? null },
      ...extra,
    };
  }

  /** Whether htmx asked (then a fragment answers, not the whole page). */
  isFragmentRequest(request: FastifyRequest): boolean {
    return request.headers['hx-request'] === 'true' && request.headers['hx-history-restore-request'] !== 'true';
  }

  /** Sends a page or fragment (a JSX element: a string, or its promise when a component is async). */
  async send(reply: FastifyReply, html: JSX.Element, status = 200): Promise<FastifyReply> {
    const text = await html;
    return (
      reply
        .status(status)
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', CONSOLE_CSP)
        .header('cache-control', 'no-store')
        .header('vary', 'HX-Request, Cookie')
        // Gatehouse's default (no-referrer) makes Chromium send `Origin: null` on form posts, which
        // the CSRF check could not tell from a sandboxed attacker's page; same-origin keeps both.
        .header('referrer-policy', 'same-origin')
        .send(text)
    );
  }

  /** After a form: Post/Redirect/Get, so that reloading never sends the form again. */
  redirect(reply: FastifyReply, location: string): FastifyReply {
    return reply.status(303).header('location', location).header('cache-control', 'no-store').send();
  }
}
