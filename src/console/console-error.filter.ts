import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { withOrigin } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { originOf } from '../auth/principal.js';
import { toErrorResponse } from '../common/error.filter.js';
import { ConsoleRenderer } from './console-renderer.js';
import { CsrfRefused } from './csrf.guard.js';
import { safeNextPath, signInPath } from './next-path.js';
import { ErrorPage } from './pages/error-page.js';
import { SetupPage } from './pages/setup-page.js';
import { SignInPage } from './pages/sign-in-page.js';

/**
 * Console errors as pages. Not signed in (or idle too long): to the sign-in page, which
 * comes back here afterwards. Refused (403, including CSRF): audited as the person, with
 * the HTTP request id, then a page that says so. A failed sign-in or setup: its form again.
 */
@Catch()
export class ConsoleErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Console');

  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly audit: AuditService,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, headers } = toErrorResponse(exception, this.logger, request.id);
    const path = request.url.split('?')[0];
    const csrf = exception instanceof CsrfRefused;
    const signingIn = request.method === 'POST' && path === '/sign-in' && !csrf;
    if (status === 401 && !signingIn) {
      this.toSignIn(request, reply);
      return;
    }
    if (status === 403) await this.auditRefusal(request, body.error.message);
    const ctx = this.renderer.context(request);
    void reply.headers(headers);
    if (signingIn) {
      const form = request.body as { username?: unknown } | undefined;
      const username = typeof form?.username === 'string' ? form.username : undefined;
      const next = safeNextPath((request.query as Record<string, unknown>).next);
      await this.renderer.send(reply, SignInPage({ ctx, next, error: body.error.message, username }), status);
      return;
    }
    if (request.method === 'POST' && path === '/setup' && !csrf) {
      await this.renderer.send(reply, SetupPage({ ctx, error: body.error.message }), status);
      return;
    }
    await this.renderer.send(
      reply,
      ErrorPage({ ctx, status, code: body.error.code, message: body.error.message, details: body.error.details }),
      status,
    );
  }

  private toSignIn(request: FastifyRequest, reply: FastifyReply): void {
    const next = request.method === 'GET' ? safeNextPath(request.url) : this.refererPath(request);
    const location = signInPath(next);
    if (this.renderer.isFragmentRequest(request)) {
      // htmx follows this header with a full page load (a 3xx would be followed inside the fragment).
      const page = safeNextPath(this.pathOf(request, request.headers['hx-current-url'])) ?? next;
      void reply.status(200).header('hx-redirect', signInPath(page)).send('');
      return;
    }
    this.renderer.redirect(reply, location);
  }

  private refererPath(request: FastifyRequest): string | null {
    return safeNextPath(this.pathOf(request, request.headers.referer));
  }

  /** The path of a URL of this site (a Referer or HX-Current-URL); another site's URL gives none. */
  private pathOf(request: FastifyRequest, url: unknown): string | null {
    if (typeof url !== 'string') return null;
    try {
      const parsed = new URL(url);
      return parsed.host === request.host ? `${parsed.pathname}${parsed.search}` : null;
    } catch {
      return null;
    }
  }

  private async auditRefusal(request: FastifyRequest, reason: string): Promise<void> {
    const staff = request.principal;
    try {
      await this.audit.append(
        withOrigin(
          {
            eventType: 'console.refused',
            actorType: staff ? 'user' : 'anonymous',
            actorId: staff ? staff.user.username : 'anonymous',
            outcome: 'failure',
            details: { method: request.method, path: request.url.split('?')[0].slice(0, 512), reason },
          },
          originOf(request),
        ),
      );
    } catch (error) {
      // The refusal stands even when the audit cannot be written; the log says so.
      this.logger.error({ requestId: request.id, msg: `Could not audit a refusal: ${(error as Error).message}` });
    }
  }
}
